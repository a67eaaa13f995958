"""Ingest from the jam's other networks (Bluesky, Mastodon): the posts carrying the
route's hashtag, read after a cursor, stored exactly once across restarts.

One poll walks the search's pages. Each page is stored (networks.remote_store), then the
cursor is saved: the next page's position, and only after the last page the new `since`.
A poll that dies half-way resumes from the page it was on; its lease runs out within
NETWORK_INGEST_LEASE_SECONDS and the next poll takes it over. A 429 pauses the route
until the network's reset; any other failure backs off; nothing a network sends stops a
later poll.

The closing re-read: each search reaches only SEARCH_OVERLAP (3 minutes) behind the newest
post seen, so a post that reached search later than that, or a status that federated late
(Mastodon files it under the time it was written), is missed by the live polls when no
stream carried it. NETWORK_REREAD_MINUTES after a jam ends, each of its routes is read
once more from the jam's start, every page, and what was missed is stored; posts written
after the jam's ingest window are left out. Reads are free on both networks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from jamhost.jams.models import Jam
from jamhost.networks.deliveries import OTHER_NETWORKS, networks_on
from jamhost.networks.gateway import Gateway, gateway_for
from jamhost.networks.ingest import ingest_window
from jamhost.networks.jam_networks import OVER
from jamhost.networks.leases import cursor_lease, lease_end
from jamhost.networks.models import JamNetwork, LinkedAccount, Network, NetworkCursor
from jamhost.networks.remote import (
    RemoteError,
    RemotePage,
    RemoteRateLimited,
    RemoteUnauthorized,
)
from jamhost.networks.remote_store import StoreResult, page_store

log = logging.getLogger(__name__)

MAX_PAGES_PER_POLL = 20
MAX_INTERVAL = 60.0
# A closing re-read that could not run within a day of being due (workers down) is dropped.
REREAD_REACH = timedelta(days=1)
# What a poll writes: never `stream_position`, which the listener moves meanwhile.
POLL_FIELDS = [
    f.name
    for f in NetworkCursor._meta.concrete_fields
    if f.name not in ("id", "route", "stream_position")
]


@dataclass
class RoutePoll(StoreResult):
    pages: int = 0
    error: str = ""
    reread: bool = False  # this poll finished the jam's closing re-read
    paused_until: datetime | None = None


def reader_account(route: JamNetwork) -> LinkedAccount | None:
    """Whose token reads the tag: the route's poster, else any linked account of the
    jam's host on that network. On Mastodon only an account of the route's own instance
    (another instance's token means nothing there); without one the tag timeline is read
    anonymously."""
    same_service = route.network != Network.MASTODON
    poster = route.poster
    if (
        poster is not None
        and not poster.is_revoked
        and (same_service or poster.service == route.service)
    ):
        return poster
    accounts = LinkedAccount.objects.filter(
        user_id=route.jam.host_id, network=route.network, revoked_at__isnull=True
    )
    if not same_service:
        accounts = accounts.filter(service=route.service)
    return accounts.order_by("pk").first()


def _reader_token(gateway: Gateway, account: LinkedAccount | None) -> str:
    """The reader's token, or "" (an anonymous read) when it cannot be had."""
    if account is None:
        return ""
    try:
        return gateway.access_token(account)
    except RemoteUnauthorized as exc:
        log.warning("%s account %s cannot read: %s", gateway.label, account.pk, exc.reason)
        return ""


def _newer(a: str, b: str) -> str:
    """The later of two positions: ids compared as numbers, times as ISO strings."""
    if not a or not b:
        return a or b
    if a.isdigit() and b.isdigit():
        return a if int(a) >= int(b) else b
    return max(a, b)


def _interval(page: RemotePage | None, now: datetime) -> float:
    floor = max(settings.SWEEP_INTERVAL, 1.0)
    if page is None or page.rate_remaining is None or page.rate_reset_at is None:
        return floor
    seconds_left = max((page.rate_reset_at - now).total_seconds(), 1.0)
    return min(max(floor, seconds_left / max(page.rate_remaining, 1)), MAX_INTERVAL)


def _reread_after() -> timedelta | None:
    minutes = settings.NETWORK_REREAD_MINUTES
    return timedelta(minutes=minutes) if minutes > 0 else None


def _reread_due(jam: Jam, now: datetime) -> bool:
    after = _reread_after()
    return (
        after is not None
        and jam.status in OVER
        and jam.ended_at is not None
        and now - after - REREAD_REACH < jam.ended_at <= now - after
    )


def _window_end(jam: Jam) -> datetime:
    """The end of the jam's ingest window (networks.ingest.ingest_window)."""
    ended = jam.ended_at or timezone.now()
    return ended + timedelta(minutes=settings.X_INGEST_MARGIN_MINUTES)


def route_poll(*, route_id: int, now: datetime | None = None) -> RoutePoll:
    """Read the route's new tagged posts. Never raises for the network's failures; the
    reason lands in the cursor's last_error and the log."""
    now = now or timezone.now()
    result = RoutePoll()
    cursor = cursor_lease(
        NetworkCursor,
        now=now,
        seconds=settings.NETWORK_INGEST_LEASE_SECONDS,
        result=result,
        what=f"route {route_id}",
        route_id=route_id,
    )
    if cursor is None:
        return result
    route = JamNetwork.objects.select_related("jam", "poster").get(pk=route_id)
    gateway = gateway_for(route.network)
    page: RemotePage | None = None
    try:
        account = reader_account(route)
        token = _reader_token(gateway, account)
        if not cursor.rereading and cursor.reread_at is None and _reread_due(route.jam, now):
            # The closing re-read starts from the jam's start, whatever a poll left.
            cursor.rereading = True
            cursor.next_page = cursor.pending_newest = ""
        until = _window_end(route.jam) if cursor.rereading else None
        since = (not cursor.rereading and cursor.since) or gateway.start_position(route)
        while result.pages < MAX_PAGES_PER_POLL:
            try:
                page = gateway.search(route=route, token=token, since=since, page=cursor.next_page)
            except RemoteUnauthorized as exc:
                if not token:
                    raise
                log.warning("route %s ingest: reading without the token (%s)", route_id, exc)
                token = ""  # a token revoked since: the tag is public, read it without
                continue
            result.pages += 1
            if page.rate_remaining is not None:
                cursor.rate_remaining = page.rate_remaining
            if page.rate_reset_at is not None:
                cursor.rate_reset_at = page.rate_reset_at
            cursor.reads += page.reads or len(page.posts)
            result.skipped.extend(page.skipped)
            posts = page.posts
            if until is not None:  # written after the jam's window: not the jam's
                posts = [post for post in posts if post.created_at <= until]
            page_store(route, posts, page.deleted, result)
            if page.newest:
                # The newest of every page: Bluesky's first page holds it, Mastodon's
                # min_id paging walks towards newer statuses and its last page does.
                start = cursor.pending_newest if cursor.next_page else ""
                cursor.pending_newest = _newer(start, page.newest[:300])
            cursor.lease_until = lease_end(now, settings.NETWORK_INGEST_LEASE_SECONDS)
            if page.next_page:
                cursor.next_page = page.next_page[:500]
                cursor.save(update_fields=POLL_FIELDS)
                continue
            if cursor.rereading:  # `since` stays where the live polls left it
                cursor.rereading, cursor.reread_at = False, now
                result.reread = True
            elif cursor.pending_newest:
                cursor.since = cursor.pending_newest
            cursor.next_page = cursor.pending_newest = ""
            cursor.save(update_fields=POLL_FIELDS)
            break
        cursor.last_error, cursor.failures = "", 0
        cursor.next_poll_at = now + timedelta(seconds=_interval(page, now))
    except RemoteRateLimited as exc:
        result.error, result.paused_until = exc.reason, exc.reset_at
        cursor.paused_until = cursor.next_poll_at = exc.reset_at
        cursor.last_error, cursor.rate_remaining = exc.reason, 0
    except RemoteError as exc:
        result.error = cursor.last_error = exc.reason
        cursor.failures += 1
    except Exception as exc:  # nothing a network sends may stop later polls
        log.exception("route %s ingest failed", route_id)
        result.error = cursor.last_error = f"unexpected {type(exc).__name__}"
        cursor.failures += 1
    if result.error and not result.paused_until:
        backoff = min(settings.SWEEP_INTERVAL * 2 ** min(cursor.failures, 6), 300)
        cursor.next_poll_at = now + timedelta(seconds=backoff)
        log.warning("route %s ingest: %s", route_id, result.error)
    cursor.last_polled_at = now
    cursor.lease_until = None
    cursor.last_error = cursor.last_error[:300]
    cursor.save(update_fields=POLL_FIELDS)
    return result


def routes_due(*, now: datetime) -> list[int]:
    """Enabled Bluesky and Mastodon routes due now: of jams in their ingest window, and of
    jams whose closing re-read is due and not yet done."""
    if not networks_on():
        return []
    wanted = Q(jam_id__in=ingest_window(now=now))
    after = _reread_after()
    if after is not None:
        wanted |= Q(
            jam__status__in=OVER,
            jam__ended_at__lte=now - after,
            jam__ended_at__gt=now - after - REREAD_REACH,
            cursor__reread_at__isnull=True,
        )
    routes = JamNetwork.objects.filter(
        wanted, enabled=True, network__in=OTHER_NETWORKS
    ).select_related("cursor")
    due = []
    for route in routes.order_by("pk"):
        if not gateway_for(route.network).available():
            continue
        cursor = getattr(route, "cursor", None)
        if cursor is None or cursor.next_poll_at is None or cursor.next_poll_at <= now:
            due.append(route.pk)
    return due
