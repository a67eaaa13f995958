"""An ended jam shows how long it really ran (jam page, replay, exports, .ics), and its
hashtag reservation follows its real end plus the margin, whether it ended early or was
extended. A clash names the holder's times in the host's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from jamhost.jams import lifecycle, services
from jamhost.jams.models import JamStatus
from jamhost.transcripts.services import jam_archive
from tests.factories import JamFactory, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db
TAG = "EarlyEnd"
YEAR = timezone.now().year + 1


def ended_early(minutes: int = 42):  # type: ignore[no-untyped-def]
    """A 60-minute jam that went live on time and was ended after `minutes`."""
    start = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    jam = JamFactory(
        hashtag=TAG, hashtag_key=TAG.lower(), status=JamStatus.SCHEDULED, starts_at=start
    )
    QuestionFactory(jam=jam, number=1)
    lifecycle.jam_go_live(jam=jam, now=start)
    lifecycle.jam_end(jam=jam, now=start + timedelta(minutes=minutes))
    jam.refresh_from_db()
    return jam


def test_the_pages_say_how_long_it_really_ran() -> None:
    jam = ended_early(42)
    for url in (
        reverse("jams:detail", args=[jam.slug]),
        reverse("transcripts:replay", args=[jam.slug]),
    ):
        page = _page(url)
        assert "ran 42 minutes" in page, url
        assert "60 minutes" not in page, url


def _page(url: str) -> str:
    response = Client().get(url)
    assert response.status_code == 200, url
    body = response.streaming_content if response.streaming else [response.content]
    return b"".join(body).decode()  # type: ignore[arg-type]


def test_exports_and_the_calendar_say_how_long_it_really_ran() -> None:
    jam = ended_early(42)
    jam_archive(jam_id=jam.pk)
    for fmt in ("md", "html"):
        body = Client().get(f"/jams/{jam.slug}/transcript.{fmt}").content.decode()
        assert "ran 42 minutes" in body, fmt
    calendar = Calendar.from_ical(Client().get(reverse("jams:calendar", args=[jam.slug])).content)
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == jam.went_live_at
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=42)


def test_a_jam_started_early_and_ended_soon_after_ran_that_long() -> None:
    jam = ended_early(0)
    assert jam.ran_for == "under a minute"
    start = jam.starts_at + timedelta(days=2)
    early = JamFactory(status=JamStatus.SCHEDULED, starts_at=start)
    QuestionFactory(jam=early, number=1)
    lifecycle.jam_go_live(jam=early, now=start - timedelta(minutes=5))  # "Start now"
    lifecycle.jam_end(jam=early, now=start + timedelta(minutes=1))
    early.refresh_from_db()
    assert early.ran_from == start - timedelta(minutes=5)
    assert early.ran_for == "6 minutes"


def test_an_early_end_frees_the_hashtag_from_the_real_end_plus_the_margin() -> None:
    jam = ended_early(20)  # ran start..start+20; planned to +60; margin 30
    host = UserFactory()
    real_end = jam.ended_at
    assert real_end is not None
    # Starting within the margin after the real end still clashes...
    with pytest.raises(ValidationError, match="reserved by"):
        services.jam_create(
            host=host, title="Too soon", hashtag=TAG, starts_at=real_end + timedelta(minutes=29)
        )
    # ...but from the real end plus the margin the tag is free, though the planned hour
    # (and its margin) would still have held it.
    follow_on = services.jam_create(
        host=host, title="Right after", hashtag=TAG, starts_at=real_end + timedelta(minutes=30)
    )
    assert follow_on.hashtag == TAG


def test_an_extended_jam_holds_its_tag_to_the_new_end_and_cannot_run_into_the_next() -> None:
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    jam = JamFactory(
        hashtag=TAG, hashtag_key=TAG.lower(), status=JamStatus.SCHEDULED, starts_at=start
    )
    lifecycle.jam_extend(jam=jam, minutes=30)  # now start..+90
    host = UserFactory()
    with pytest.raises(ValidationError, match="reserved by"):
        services.jam_create(
            host=host, title="Next", hashtag=TAG, starts_at=start + timedelta(minutes=100)
        )
    services.jam_create(
        host=host, title="Next", hashtag=TAG, starts_at=start + timedelta(minutes=120)
    )
    # Extending again would run into the next jam's reservation: refused, saying why.
    with pytest.raises(ValidationError, match="reserved by another jam"):
        lifecycle.jam_extend(jam=jam, minutes=10)
    jam.refresh_from_db()
    assert jam.duration_minutes == 90


def test_the_clash_message_gives_times_in_the_hosts_zone(client) -> None:  # type: ignore[no-untyped-def]
    holder = JamFactory(
        title="Holder",
        hashtag=TAG,
        hashtag_key=TAG.lower(),
        status=JamStatus.SCHEDULED,
        starts_at=datetime(YEAR, 5, 4, 16, 0, tzinfo=UTC),
    )
    client.force_login(UserFactory())
    response = client.post(
        reverse("jams:create"),
        {
            "title": "Mine",
            "hashtag": TAG,
            "starts_at": f"{YEAR}-05-04T18:30",
            "time_zone": "Europe/Berlin",
            "duration_minutes": 60,
            "moderation_mode": "post",
        },
    )
    page = response.content.decode()
    # 16:00-17:00 UTC is 18:00-19:00 in Berlin (summer time), the zone the host typed in.
    assert f"reserved by “{holder.title}” from {YEAR}-05-04 18:00 to 19:00 (Europe/Berlin)" in page
    assert "16:00" not in page
    with pytest.raises(
        ValidationError, match=rf"from {YEAR}-05-04 12:00 to 13:00 \(America/New_York\)"
    ):
        services.jam_create(
            host=UserFactory(),
            title="Mine",
            hashtag=TAG,
            starts_at=datetime(YEAR, 5, 4, 16, 30, tzinfo=UTC),
            time_zone=ZoneInfo("America/New_York"),
        )
