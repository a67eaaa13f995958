"""The jam page shows its hosts how reading and posting goes on each Bluesky and Mastodon
route: posts read and published, whose account reads, the last failure and the wait it
causes, the cost, and the closing re-read. Nobody else sees it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from jamhost.jams.models import Jam, JamStatus
from jamhost.networks.cursors import route_poll
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam

from .conftest import link_bluesky, link_mastodon, routes

pytestmark = pytest.mark.django_db


def route_items(html: str) -> dict[str, str]:
    """network -> the text of its item in the panel."""
    items = re.findall(r'<li class="net-route" data-network="(\w+)">(.*?)</li>', html, re.S)
    return {network: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", body)) for network, body in items}


def test_the_host_sees_what_each_route_read_and_published_and_what_went_wrong(
    networks: Any, client: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    settings.NETWORK_REREAD_MINUTES = 60
    jam = live_jam()
    blue, mast = routes(jam, bsky, masto)
    link_bluesky(bsky, jam.host, handle="host.bsky.test")  # reads Bluesky; none on Mastodon
    pat = UserFactory(username="pat")
    MembershipFactory(jam=jam, user=pat)
    link_bluesky(bsky, pat)
    link_mastodon(masto, pat)
    carol = bsky.account_add("carol.bsky.test")
    for n in range(2):
        bsky.post_add(carol, f"A1: idea {n} {jam.tag}", tags=[jam.hashtag])
    with django_capture_on_commit_callbacks(execute=True):
        post_compose(jam=jam, user=pat, body="Small steps")
    route_poll(route_id=blue.pk)
    masto.fault_next("/api/v1/timelines/tag", "429")
    route_poll(route_id=mast.pk)

    client.force_login(jam.host)
    items = route_items(client.get(f"/jams/{jam.slug}/").content.decode())
    bluesky, mastodon = items["bluesky"], items["mastodon"]
    # The jamhost post is found by the search too, and recognised: 3 read, 1 published.
    assert f"Bluesky #{jam.hashtag}: 3 posts read, last at" in bluesky
    assert "1 published from jamhost" in bluesky
    assert "Read with @host.bsky.test's account." in bluesky
    assert "Last read" not in bluesky
    assert "Free to read and to post" in bluesky
    assert f"Mastodon ({urlsplit(masto.base_url).hostname}) #{jam.hashtag}" in mastodon
    assert "1 published from jamhost" in mastodon
    assert "Read without an account" in mastodon and "Link an account on this instance" in mastodon
    assert "Last read: " in mastodon and "Reading waits until" in mastodon
    assert "60 minutes after the jam ends" in mastodon

    # The jam ends: when the closing re-read comes, then that it ran.
    ended = timezone.now()
    Jam.objects.filter(pk=jam.pk).update(status=JamStatus.ENDED, ended_at=ended)
    due = ended + timedelta(minutes=60)
    items = route_items(client.get(f"/jams/{jam.slug}/").content.decode())
    assert f"Read once more from the start at {due:%H:%M} UTC" in items["bluesky"]
    assert route_poll(route_id=blue.pk, now=due).reread
    items = route_items(client.get(f"/jams/{jam.slug}/").content.decode())
    assert "for posts that reached search late" in items["bluesky"]

    # A panelist, or anyone else, does not see it.
    client.force_login(pat)
    assert route_items(client.get(f"/jams/{jam.slug}/").content.decode()) == {}
    client.logout()
    assert 'class="net-route"' not in client.get(f"/jams/{jam.slug}/").content.decode()
