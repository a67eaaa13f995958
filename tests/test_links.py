"""Links people copy, scan or subscribe to follow the server's address: with SITE_URL
unset, the address each request came to (host and port, checked against ALLOWED_HOSTS);
with SITE_URL set, SITE_URL. Invite links, the big screen's join link and QR code, the
.ics file and the Atom feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from jamhost.jams.models import Invite, JamStatus
from jamhost.links import absolute_url
from tests.factories import JamFactory, live_jam

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def unset(settings):  # type: ignore[no-untyped-def]
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["jams.local", "127.0.0.1"]
    return settings


def at(host: str) -> Client:
    return Client(HTTP_HOST=host)


def links_seen(host: str, jam, screen_jam) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every link kind, fetched through `host`."""
    client = at(host)
    client.force_login(jam.host)
    client.post(reverse("jams:invite_create", args=[jam.slug]), {"role": "panelist"})
    page = client.get(reverse("jams:edit", args=[jam.slug])).content.decode()
    invite = re.search(r'class="invite-link" type="text" readonly value="([^"]+)"', page)
    screen = at(host).get(reverse("posts:screen", args=[screen_jam.slug])).content.decode()
    join = re.search(r"Join: <a href=\"([^\"]+)\"", screen)
    ics = Calendar.from_ical(at(host).get(reverse("jams:calendar", args=[jam.slug])).content)
    (event,) = ics.walk("VEVENT")
    feed = ET.fromstring(at(host).get(reverse("jams:feed_upcoming")).content)
    assert invite and join
    return {
        "invite": invite.group(1),
        "join": join.group(1),
        "ics": str(event["url"]),
        "ics_uid": str(event["uid"]),
        "feed_self": feed.find(f"{ATOM}link[@rel='self']").get("href"),  # type: ignore[union-attr]
        "feed_entry": feed.find(f"{ATOM}entry/{ATOM}link").get("href"),  # type: ignore[union-attr]
        "feed_id": feed.findtext(f"{ATOM}entry/{ATOM}id") or "",
    }


@pytest.fixture
def jams():  # type: ignore[no-untyped-def]
    scheduled = JamFactory(status=JamStatus.SCHEDULED, starts_at=timezone.now() + timedelta(days=2))
    return scheduled, live_jam()


def test_without_site_url_links_use_the_address_and_port_the_request_came_to(unset, jams) -> None:  # type: ignore[no-untyped-def]
    jam, screen_jam = jams
    seen = links_seen("127.0.0.1:9201", jam, screen_jam)
    token = Invite.objects.get().token
    assert seen["invite"] == f"http://127.0.0.1:9201/invites/{token}/"
    assert seen["join"] == f"http://127.0.0.1:9201/jams/{screen_jam.slug}/live/"
    assert seen["ics"] == f"http://127.0.0.1:9201/jams/{jam.slug}/"
    assert seen["ics_uid"] == f"jam-{jam.pk}@127.0.0.1"
    assert seen["feed_self"] == "http://127.0.0.1:9201/feeds/upcoming.atom"
    assert seen["feed_entry"] == seen["feed_id"] == f"http://127.0.0.1:9201/jams/{jam.slug}/"
    # Another address, another port: the links follow it.
    other = links_seen("jams.local:8443", jam, screen_jam)
    assert other["join"] == f"http://jams.local:8443/jams/{screen_jam.slug}/live/"
    assert other["feed_self"] == "http://jams.local:8443/feeds/upcoming.atom"


def test_the_qr_code_encodes_the_request_address(unset, jams) -> None:  # type: ignore[no-untyped-def]
    from tests.live.test_console_views import decode_svg_qr

    _, screen_jam = jams
    page = at("127.0.0.1:9201").get(reverse("posts:screen", args=[screen_jam.slug]))
    svg = re.search(r"<svg.*?</svg>", page.content.decode(), re.S)
    assert svg is not None
    assert decode_svg_qr(svg.group(0)) == [f"http://127.0.0.1:9201/jams/{screen_jam.slug}/live/"]


def test_a_host_not_in_allowed_hosts_gets_no_links(unset, jams) -> None:  # type: ignore[no-untyped-def]
    jam, screen_jam = jams
    assert at("evil.example:80").get(reverse("jams:calendar", args=[jam.slug])).status_code == 400
    assert at("evil.example").get(reverse("jams:feed_upcoming")).status_code == 400
    assert (
        at("evil.example").get(reverse("posts:screen", args=[screen_jam.slug])).status_code == 400
    )


def test_with_site_url_set_every_link_uses_it(unset, jams) -> None:  # type: ignore[no-untyped-def]
    unset.SITE_URL = "https://jams.example.org"
    jam, screen_jam = jams
    seen = links_seen("127.0.0.1:9201", jam, screen_jam)
    assert all(v.startswith("https://jams.example.org/") for k, v in seen.items() if k != "ics_uid")
    assert seen["ics_uid"] == f"jam-{jam.pk}@jams.example.org"


def test_without_a_request_links_fall_back(unset) -> None:  # type: ignore[no-untyped-def]
    assert absolute_url("/jams/x/") == "http://127.0.0.1:8000/jams/x/"
    unset.SITE_URL = "https://jams.example.org"
    assert absolute_url("/jams/x/") == "https://jams.example.org/jams/x/"
