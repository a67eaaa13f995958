"""The sweep with X unconfigured: due Bluesky and Mastodon deliveries go out, due routes
are polled; and a route is read with an account of its own instance only."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jamhost.networks.cursors import route_poll
from jamhost.networks.models import (
    Delivery,
    DeliveryStatus,
    LinkedAccount,
    Network,
    NetworkCursor,
)
from jamhost.networks.sweep import networks_sweep
from jamhost.posts.models import Post
from jamhost.posts.services import post_compose
from tests.factories import live_jam

from .conftest import link_bluesky, link_mastodon, routes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("send", [False, True], ids=["inline", "tasks"])
def test_the_sweep_sends_due_deliveries_and_polls_due_routes(networks: Any, send: bool) -> None:
    bsky, masto = networks
    jam = live_jam()
    blue, mast = routes(jam, bsky, masto)
    link_bluesky(bsky, jam.host)
    link_mastodon(masto, jam.host)
    post = post_compose(jam=jam, user=jam.host, body="sent by the sweep")  # no task ran
    assert {d.status for d in Delivery.objects.filter(post=post)} == {DeliveryStatus.QUEUED}
    carol = bsky.account_add("carol.bsky.test")
    bsky.post_add(carol, f"from bluesky {jam.tag}", tags=[jam.hashtag])
    masto.status_add(masto.account_add("dave"), f"from mastodon {jam.tag}")

    result = networks_sweep(send=send)
    assert sorted(result.delivered) == sorted(
        Delivery.objects.filter(post=post).values_list("pk", flat=True)
    )
    assert result.routes == [blue.pk, mast.pk]
    assert result.published == [] and result.polled == []  # X is not configured
    assert {d.status for d in Delivery.objects.filter(post=post)} == {DeliveryStatus.PUBLISHED}
    assert len(bsky.posts) == 2 and len(masto.statuses) == 2
    assert Post.objects.filter(jam=jam, source="bluesky").count() == 1
    assert Post.objects.filter(jam=jam, source="mastodon").count() == 1

    # Nothing is due again at once; later only the routes are.
    assert networks_sweep().routes == []
    later = networks_sweep(now=timezone.now() + timedelta(seconds=120))
    assert later.delivered == [] and later.routes == [blue.pk, mast.pk]


def test_a_route_is_read_with_an_account_of_its_own_instance(networks: Any) -> None:
    """The host's Mastodon account lives on another instance: its token means nothing
    here, so the tag is read without one."""
    bsky, masto = networks
    jam = live_jam()
    _, mast = routes(jam, bsky, masto)
    LinkedAccount.objects.create(
        user=jam.host,
        network=Network.MASTODON,
        service="https://other.example",
        remote_id="https://other.example/users/host",
        handle="host@other.example",
        access_token="not-for-this-instance",
    )
    masto.status_add(masto.account_add("dave"), f"hello {jam.tag}")
    result = route_poll(route_id=mast.pk)
    assert result.error == "" and result.stored == 1


def test_a_revoked_reader_token_does_not_stop_ingest(networks: Any) -> None:
    bsky, masto = networks
    jam = live_jam()
    _, mast = routes(jam, bsky, masto)
    link_mastodon(masto, jam.host)
    masto.tokens_revoke()
    masto.status_add(masto.account_add("dave"), f"hello {jam.tag}")
    result = route_poll(route_id=mast.pk)
    assert result.error == "" and result.stored == 1


def test_a_route_another_poll_holds_is_left_alone(networks: Any, caplog: Any) -> None:
    bsky, masto = networks
    jam = live_jam()
    blue, _ = routes(jam, bsky, masto)
    bsky.post_add(bsky.account_add("carol.bsky.test"), f"hi {jam.tag}", tags=[jam.hashtag])
    now = timezone.now()
    NetworkCursor.objects.create(route=blue, lease_until=now + timedelta(seconds=30))
    busy = route_poll(route_id=blue.pk, now=now)
    assert busy.error == "another poll is running" and busy.stored == 0
    assert bsky.requests_to("app.bsky.feed.searchPosts") == []
    # The poll that held it died: its lease runs out and the next poll takes over.
    with caplog.at_level(logging.WARNING, logger="jamhost.networks.leases"):
        assert route_poll(route_id=blue.pk, now=now + timedelta(seconds=31)).stored == 1
    assert f"route {blue.pk} ingest: taking over the lease" in caplog.text
