from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from icalendar import Calendar

from jamhost.jams.models import JamStatus
from tests.factories import JamFactory

pytestmark = pytest.mark.django_db


def test_the_calendar_file_parses_back(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = "https://jams.example.org"
    jam = JamFactory(
        title="Podcast chat",
        hashtag="PodcastChat",
        description="An hour about podcasts.",
        status=JamStatus.SCHEDULED,
        starts_at=datetime(2031, 5, 4, 18, 0, tzinfo=UTC),
        duration_minutes=90,
    )
    response = client.get(reverse("jams:calendar", args=[jam.slug]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == f'attachment; filename="{jam.slug}.ics"'
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["version"]) == "2.0"
    (event,) = calendar.walk("VEVENT")
    assert str(event["summary"]) == "Podcast chat (#PodcastChat)"
    start = event.decoded("dtstart")
    end = event.decoded("dtend")
    assert start == datetime(2031, 5, 4, 18, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)
    assert end - start == timedelta(minutes=90)
    assert b"DTSTART:20310504T180000Z" in response.content
    url = f"https://jams.example.org/jams/{jam.slug}/"
    assert str(event["url"]) == url
    assert url in str(event["description"])
    assert "An hour about podcasts." in str(event["description"])
    assert str(event["uid"]) == f"jam-{jam.pk}@jams.example.org"


def test_a_draft_has_no_public_calendar(client) -> None:  # type: ignore[no-untyped-def]
    jam = JamFactory(status=JamStatus.DRAFT)
    assert client.get(reverse("jams:calendar", args=[jam.slug])).status_code == 404
    assert client.get("/jams/no-such-jam/calendar.ics").status_code == 404
