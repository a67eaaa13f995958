from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jamhost.jams.models import JamStatus
from tests.factories import JamFactory, live_jam

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_feed_lists_upcoming_jams_only(client, settings, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = "https://jams.example.org"
    soon = JamFactory(
        title="Soon",
        hashtag="SoonTag",
        status=JamStatus.SCHEDULED,
        starts_at=timezone.now() + timedelta(days=1),
        description="Bring questions.",
    )
    later = JamFactory(
        title="Later",
        hashtag="LaterTag",
        status=JamStatus.SCHEDULED,
        starts_at=timezone.now() + timedelta(days=9),
    )
    JamFactory(title="Just a draft", hashtag="DraftTag", status=JamStatus.DRAFT)
    JamFactory(
        title="Long gone",
        hashtag="GoneTag",
        status=JamStatus.ENDED,
        starts_at=timezone.now() - timedelta(days=2),
    )
    live_jam(title="On air now")
    with django_assert_num_queries(1):
        response = client.get(reverse("jams:feed_upcoming"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "Upcoming Tweet Jams on jamhost"
    self_link = root.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None
    assert self_link.get("href") == "https://jams.example.org/feeds/upcoming.atom"
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Soon (#SoonTag)", "Later (#LaterTag)"]
    first = entries[0]
    link = first.find(f"{ATOM}link")
    assert link is not None
    assert link.get("href") == f"https://jams.example.org/jams/{soon.slug}/"
    assert first.findtext(f"{ATOM}id") == f"https://jams.example.org/jams/{soon.slug}/"
    assert "Bring questions." in (first.findtext(f"{ATOM}summary") or "")
    assert f"{soon.starts_at:%Y-%m-%d %H:%M} UTC" in (first.findtext(f"{ATOM}summary") or "")
    assert first.findtext(f"{ATOM}author/{ATOM}name")
    assert later.slug in (entries[1].find(f"{ATOM}link").get("href") or "")  # type: ignore[union-attr]


def test_an_empty_feed_is_still_valid(client) -> None:  # type: ignore[no-untyped-def]
    root = ET.fromstring(client.get("/feeds/upcoming.atom").content)
    assert root.findall(f"{ATOM}entry") == []
    assert root.findtext(f"{ATOM}updated")
