"""The compose box's counters for the networks besides X a post goes to (core hook
`compose_networks`): the jam's enabled Bluesky and Mastodon routes on which the author
has a linked account, each with its limit and the hashtag used there.

Bluesky counts graphemes (300); a Mastodon instance counts characters up to the limit it
states (MastodonApp.max_characters, 500 until read), each link as `url_weight` (23). The
browser counts (static/js/compose-count.js); X's count, made again by the server, is the
only one that refuses a post: a network the text is too long for is marked failed by the
delivery engine, with its reason."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from jamhost.networks.models import JamNetwork, LinkedAccount, MastodonApp, Network

BLUESKY_GRAPHEMES = 300
MASTODON_CHARACTERS = 500
MASTODON_URL_WEIGHT = 23


def _offered() -> set[str]:
    offered: set[str] = set()
    if settings.BLUESKY_ENABLED:
        offered.add(Network.BLUESKY)
    if settings.MASTODON_ENABLED:
        offered.add(Network.MASTODON)
    return offered


def compose_networks(jam: Any, user: Any) -> list[dict[str, Any]]:
    """What each counter needs, in a fixed order (Bluesky, then instances by address).
    No query when neither network is offered or nobody is signed in; otherwise two, and
    a third when the jam runs on Mastodon."""
    offered = _offered()
    if not offered or user is None or not user.is_authenticated:
        return []
    routes = list(
        JamNetwork.objects.filter(jam_id=jam.pk, enabled=True, network__in=offered).order_by(
            "network", "service"
        )
    )
    if not routes:
        return []
    linked = set(
        LinkedAccount.objects.filter(
            user_id=user.pk, revoked_at__isnull=True, network__in=offered
        ).values_list("network", flat=True)
    )
    instances = [r.service for r in routes if r.network == Network.MASTODON]
    apps = (
        {a.service: a for a in MastodonApp.objects.filter(service__in=instances)}
        if instances and Network.MASTODON in linked
        else {}
    )
    found = []
    for route in routes:
        if route.network not in linked:
            continue
        hashtag = route.hashtag or jam.hashtag
        if route.network == Network.BLUESKY:
            found.append(
                {
                    "network": Network.BLUESKY.value,
                    "label": "Bluesky",
                    "limit": BLUESKY_GRAPHEMES,
                    "unit": "graphemes",
                    "hashtag": hashtag,
                    "url_weight": 0,
                }
            )
            continue
        app = apps.get(route.service)
        found.append(
            {
                "network": Network.MASTODON.value,
                "label": f"Mastodon ({urlsplit(route.service).hostname or route.service})",
                "limit": app.max_characters if app else MASTODON_CHARACTERS,
                "unit": "characters",
                "hashtag": hashtag,
                "url_weight": app.url_weight if app else MASTODON_URL_WEIGHT,
            }
        )
    return found
