"""What the host sees of each Bluesky and Mastodon route of their jam: what was read and
published there, whose account reads it, what went wrong last and until when it waits,
what it costs, and when the closing re-read comes (networks.cursors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings

from jamhost.jams.models import Jam
from jamhost.networks.cursors import reader_account
from jamhost.networks.deliveries import OTHER_NETWORKS
from jamhost.networks.gateway import gateway_for
from jamhost.networks.models import JamNetwork, Network


@dataclass(frozen=True)
class RouteStatus:
    network: str
    label: str  # "Bluesky", "Mastodon (mastodon.example)"
    hashtag: str
    reads: int
    published: int
    last_read_at: datetime | None
    problem: str  # the last read's failure, "" when it went well
    paused_until: datetime | None
    rate_remaining: int | None
    reader: str  # the handle whose account reads the tag, "" when read without one
    cost: str
    reread_at: datetime | None  # when the closing re-read ran
    reread_due: datetime | None  # when it is to run (the jam has ended)
    reread_minutes: int  # how long after the end it runs; 0: never


def routes_status(jam: Jam) -> list[RouteStatus]:
    """The jam's enabled Bluesky and Mastodon routes, by network then instance."""
    routes = (
        JamNetwork.objects.filter(jam=jam, enabled=True, network__in=OTHER_NETWORKS)
        .select_related("cursor", "poster", "jam")
        .order_by("network", "service")
    )
    minutes = max(settings.NETWORK_REREAD_MINUTES, 0)
    found = []
    for route in routes:
        gateway = gateway_for(route.network)
        cursor = getattr(route, "cursor", None)
        reader = reader_account(route)
        label = gateway.label
        if route.network == Network.MASTODON:
            label = f"{label} ({urlsplit(route.service).hostname or route.service})"
        due = None
        if minutes and jam.ended_at is not None:
            due = jam.ended_at + timedelta(minutes=minutes)
        found.append(
            RouteStatus(
                network=route.network,
                label=label,
                hashtag=route.hashtag or jam.hashtag,
                reads=cursor.reads if cursor else 0,
                published=cursor.creates if cursor else 0,
                last_read_at=cursor.last_polled_at if cursor else None,
                problem=cursor.last_error if cursor else "",
                paused_until=cursor.paused_until if cursor else None,
                rate_remaining=cursor.rate_remaining if cursor else None,
                reader=reader.handle if reader else "",
                cost=gateway.cost(),
                reread_at=cursor.reread_at if cursor else None,
                reread_due=due,
                reread_minutes=minutes,
            )
        )
    return found
