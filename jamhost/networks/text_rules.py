"""Which networks' text rules a post is held to: the limit that binds (core hook
`text_rules`, jamhost/core/text_rules.py).

- X's rule whenever the jam runs on X (X is offered here, `x_configured()`, and the host
  has not turned it off for the jam): every post, by anyone, as when X was the only
  network.
- Each other network the post goes to: the jam's enabled Bluesky and Mastodon routes on
  which the author has a linked account (any instance counts for Mastodon, as delivery
  does), each with the hashtag used there. A Mastodon post goes out from the author's
  account (on the route's instance if they have one there, else their first), so that
  instance's limit is the one it is held to, as the delivery engine holds it.
- When none of those apply (a jam without X whose author goes nowhere, or nobody in
  particular, as for a question), the rules of the jam's enabled routes: what is written
  there must fit wherever the jam runs.
- No rule when the jam runs on no network at all: posts then applies its own local limit
  (jamhost.posts.compose.LOCAL_LIMIT).

A post over any rule that applies is refused, naming the network and by how much to
shorten it; the one with the least room left is the limit that binds, which the compose
box's counter marks. Bluesky counts graphemes (300) and holds a post to 3000 UTF-8 bytes;
a Mastodon instance counts characters up to the limit it states
(MastodonApp.max_characters, 500 until read), each link as `url_weight` (23).

Queries: the jam's routes are read once per header rev per process (as the compose
form's released questions are: jamhost.jams.selectors), and jam_networks_set stamps the
jam's header when it changes them; so none on the compose path when only X is offered,
nor when no network is. With Bluesky or Mastodon routes, one for the author's linked
accounts, and one for the instances' limits when a Mastodon route applies.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from cachetools import LRUCache
from django.conf import settings

from jamhost.core.text_rules import TextRule
from jamhost.networks.accounts import x_configured
from jamhost.networks.bluesky.text import bluesky_rule
from jamhost.networks.mastodon.text import DEFAULT_LIMIT, DEFAULT_URL_WEIGHT, mastodon_rule
from jamhost.networks.models import JamNetwork, LinkedAccount, MastodonApp, Network
from jamhost.networks.x.rules import x_rule


class _Route(NamedTuple):
    network: str
    service: str
    hashtag: str
    enabled: bool


_routes: LRUCache[tuple[Any, ...], tuple[_Route, ...]] = LRUCache(maxsize=512)
_routes_lock = threading.Lock()


def _routes_of(jam: Any) -> tuple[_Route, ...]:
    """The jam's routes (X's row too, enabled or not), by network then service; read once
    per header rev per process."""
    key = (jam.pk, jam.created_at, jam.header_rev)
    with _routes_lock:
        found = _routes.get(key)
    if found is None:
        found = tuple(
            _Route(*row)
            for row in JamNetwork.objects.filter(jam_id=jam.pk)
            .order_by("network", "service")
            .values_list("network", "service", "hashtag", "enabled")
        )
        with _routes_lock:
            _routes[key] = found
    return found


def _offered() -> set[str]:
    offered: set[str] = set()
    if x_configured():
        offered.add(Network.X)
    if settings.BLUESKY_ENABLED:
        offered.add(Network.BLUESKY)
    if settings.MASTODON_ENABLED:
        offered.add(Network.MASTODON)
    return offered


def _linked(user: Any, offered: set[str]) -> dict[str, list[str]]:
    """network -> the servers of the user's working accounts there, oldest link first."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    found: dict[str, list[str]] = {}
    rows = (
        LinkedAccount.objects.filter(user_id=user.pk, revoked_at__isnull=True, network__in=offered)
        .order_by("pk")
        .values_list("network", "service")
    )
    for network, service in rows:
        found.setdefault(network, []).append(service)
    return found


def _sent_from(route: _Route, linked: dict[str, list[str]]) -> str:
    """The instance a post to a Mastodon route goes out from, as delivery picks it: the
    author's account on the route's instance, else their first; the route's own when the
    rule is not for anyone's post."""
    mine = linked.get(Network.MASTODON, [])
    return route.service if not mine or route.service in mine else mine[0]


def _route_rule(route: _Route, jam: Any, apps: dict[str, MastodonApp], service: str) -> TextRule:
    hashtag = route.hashtag or jam.hashtag
    if route.network == Network.BLUESKY:
        return bluesky_rule(hashtag)
    app = apps.get(service)
    return mastodon_rule(
        label=f"Mastodon ({urlsplit(service).hostname or service})",
        hashtag=hashtag,
        max_characters=app.max_characters if app else DEFAULT_LIMIT,
        url_weight=app.url_weight if app else DEFAULT_URL_WEIGHT,
    )


def text_rules(jam: Any, user: Any) -> list[TextRule]:
    """The rules a post by `user` (None: nobody in particular) in `jam` is held to, X's
    first, then Bluesky, then instances by address; [] when the jam is on no network."""
    offered = _offered()
    if not offered:
        return []
    routes = [r for r in _routes_of(jam) if r.network in offered]
    x_off = any(r.network == Network.X and not r.enabled for r in routes)
    found = [x_rule(jam.hashtag)] if Network.X in offered and not x_off else []
    others = [r for r in routes if r.enabled and r.network != Network.X]
    if not others:
        return found
    linked = _linked(user, offered - {Network.X})
    going = [r for r in others if r.network in linked]
    if not going and not found:
        going = others  # the jam runs only there: what is written must fit there
    sent_from = {r: _sent_from(r, linked) for r in going if r.network == Network.MASTODON}
    instances = set(sent_from.values())
    apps = (
        {a.service: a for a in MastodonApp.objects.filter(service__in=instances)}
        if instances
        else {}
    )
    return found + [_route_rule(r, jam, apps, sent_from.get(r, r.service)) for r in going]
