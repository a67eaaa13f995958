"""The compose box's counters for Bluesky and Mastodon (networks.compose_limits, through
the core hook the room's compose box calls)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from jamhost.core import hooks
from jamhost.networks.models import MastodonApp, Network
from tests.factories import UserFactory, live_jam
from tests.networks.jam_routes import MASTO, linked, route

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _networks_on(settings):  # type: ignore[no-untyped-def]
    settings.BLUESKY_ENABLED = True
    settings.MASTODON_ENABLED = True


def test_counters_for_the_networks_the_author_has_linked(client):  # type: ignore[no-untyped-def]
    jam = live_jam()
    route(jam, Network.BLUESKY, hashtag="SkyChat")
    route(jam, Network.MASTODON)
    route(jam, Network.MASTODON, service="https://other.example", enabled=False)
    MastodonApp.objects.create(
        service=MASTO, client_id="c", client_secret="s", redirect_uri=MASTO, max_characters=1000
    )
    ann = UserFactory(username="ann")
    linked(ann, Network.BLUESKY)
    linked(ann, Network.MASTODON, service="https://elsewhere.example")  # any instance counts
    found = hooks.collect_compose_networks(jam, ann)
    assert found == [
        {
            "network": "bluesky",
            "label": "Bluesky",
            "limit": 300,
            "unit": "graphemes",
            "hashtag": "SkyChat",
            "url_weight": 0,
        },
        {
            "network": "mastodon",
            "label": "Mastodon (mastodon.example)",
            "limit": 1000,
            "unit": "characters",
            "hashtag": jam.hashtag,
            "url_weight": 23,
        },
    ]
    client.force_login(ann)
    page = client.get(reverse("live:room", args=[jam.slug])).content.decode()
    assert '<div class="net-counts" id="compose-networks">' in page
    assert 'data-network="bluesky" data-limit="300"' in page
    assert "<small>#SkyChat</small>" in page
    assert 'data-network="mastodon" data-limit="1000"' in page
    assert 'data-network="x" data-limit="280"' in page


def test_no_counters_without_a_linked_account_or_with_a_revoked_one():  # type: ignore[no-untyped-def]
    jam = live_jam()
    route(jam, Network.BLUESKY)
    bob = UserFactory(username="bob")
    assert hooks.collect_compose_networks(jam, bob) == []
    account = linked(bob, Network.BLUESKY)
    assert [n["network"] for n in hooks.collect_compose_networks(jam, bob)] == ["bluesky"]
    account.revoked_at = timezone.now()
    account.save()
    assert hooks.collect_compose_networks(jam, bob) == []


def test_mastodon_defaults_and_networks_the_site_does_not_offer(settings):  # type: ignore[no-untyped-def]
    jam = live_jam()
    route(jam, Network.BLUESKY)
    route(jam, Network.MASTODON)
    cy = UserFactory(username="cy")
    linked(cy, Network.BLUESKY)
    linked(cy, Network.MASTODON)
    found = hooks.collect_compose_networks(jam, cy)
    assert [(n["network"], n["limit"], n["url_weight"]) for n in found] == [
        ("bluesky", 300, 0),
        ("mastodon", 500, 23),  # the instance's rules not read yet
    ]
    settings.BLUESKY_ENABLED = False
    assert [n["network"] for n in hooks.collect_compose_networks(jam, cy)] == ["mastodon"]


def test_the_room_without_other_networks_asks_nothing_more(
    client, settings, django_assert_num_queries
):  # type: ignore[no-untyped-def]
    settings.BLUESKY_ENABLED = False
    settings.MASTODON_ENABLED = False
    jam = live_jam()
    dee = UserFactory(username="dee")
    with django_assert_num_queries(0):
        assert hooks.collect_compose_networks(jam, dee) == []
    client.force_login(dee)
    assert (
        "compose-networks" not in client.get(reverse("live:room", args=[jam.slug])).content.decode()
    )
