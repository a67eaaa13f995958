"""Ingest: everyone's posts with the jam's hashtag, from X's recent search, into the jam.

A jam's first search starts at its ingest window (`start_time`), never at X's 7-day
default, so a weekly chat that reuses its hashtag starts clean; later searches ask only
for posts after `since_id`. One poll walks the search's pages newest first. Each page is
stored (networks.tweets: one post per X post per jam, edits in place), then the cursor is
saved: the next page's token, and only after the last page the new `since_id`. A poll
that dies half-way resumes from the page it was on; its lease on the cursor runs out
within X_INGEST_LEASE_SECONDS, and the next poll takes it over and says so in the log.
Each answer's rate-limit remaining and reset are recorded for the host's panel.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from jamhost.jams.models import Jam, JamStatus
from jamhost.networks.accounts import XAccountRevoked, x_access_token
from jamhost.networks.leases import cursor_lease, lease_end
from jamhost.networks.models import IngestCursor, JamNetwork, Network
from jamhost.networks.tweets import TWEET_ID, PollResult, page_store
from jamhost.networks.usage import usage_record
from jamhost.networks.x import client as x

log = logging.getLogger(__name__)

MAX_PAGES_PER_POLL = 50
MAX_INTERVAL = 60.0
# X's recent search reaches back 7 days; a start_time older than that is refused.
SEARCH_REACH = timedelta(days=7) - timedelta(minutes=5)


def ingest_query(jam: Jam) -> str:
    return f"{jam.tag} -is:retweet"


def _token_for(jam: Jam) -> str:
    if settings.X_BEARER_TOKEN:
        return settings.X_BEARER_TOKEN
    _, token = x_access_token(user_id=jam.host_id)  # the host's account can search too
    return token


def _interval(page: x.SearchPage | None, now: datetime) -> float:
    """Spread the remaining rate budget over the time until it resets."""
    floor = max(settings.SWEEP_INTERVAL, 1.0)
    if page is None or page.remaining is None or page.reset_at is None:
        return floor
    seconds_left = max((page.reset_at - now).total_seconds(), 1.0)
    return min(max(floor, seconds_left / max(page.remaining, 1)), MAX_INTERVAL)


def ingest_start(jam: Jam, now: datetime) -> datetime:
    """Where the jam's first search starts: its ingest window (X_INGEST_MARGIN_MINUTES
    before it started, or was to start), never further back than X's search reaches."""
    margin = timedelta(minutes=settings.X_INGEST_MARGIN_MINUTES)
    started = min(jam.starts_at, jam.went_live_at or jam.starts_at)
    return max(started - margin, now - SEARCH_REACH)


def _rate_seen(cursor: IngestCursor, remaining: int | None, reset_at: datetime | None) -> None:
    if remaining is not None:
        cursor.rate_remaining = remaining
    if reset_at is not None:
        cursor.rate_reset_at = reset_at


def ingest_poll(*, jam_id: int, now: datetime | None = None) -> PollResult:
    """Read new hashtag posts for the jam from X. Never raises for X's failures or for
    anything in X's answers; the reason lands in the cursor's last_error and the log."""
    now = now or timezone.now()
    result = PollResult()
    cursor = cursor_lease(
        IngestCursor,
        now=now,
        seconds=settings.X_INGEST_LEASE_SECONDS,
        result=result,
        what=f"jam {jam_id}",
        jam_id=jam_id,
    )
    if cursor is None:
        return result
    jam = Jam.objects.select_related("host").get(pk=jam_id)
    page: x.SearchPage | None = None
    try:
        token = _token_for(jam)
        while result.pages < MAX_PAGES_PER_POLL:
            if not cursor.since_id and not cursor.next_token:
                cursor.start_time = ingest_start(jam, now)  # a new search: the jam's window
            page = x.search_recent(
                token=token,
                query=ingest_query(jam),
                since_id=cursor.since_id,
                next_token=cursor.next_token,
                # Every page of the first search carries it; after that, since_id.
                start_time=None if cursor.since_id else cursor.start_time,
            )
            result.pages += 1
            _rate_seen(cursor, page.remaining, page.reset_at)
            usage_record(jam_id=jam_id, reads=len(page.posts))
            page_store(jam, page.body, result)
            raw_meta = page.body.get("meta")
            meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
            newest = str(meta.get("newest_id") or "")
            if not cursor.next_token and TWEET_ID.match(newest):
                cursor.pending_newest_id = newest  # first page of this search: its newest
            next_token = meta.get("next_token")
            cursor.lease_until = lease_end(now, settings.X_INGEST_LEASE_SECONDS)
            if isinstance(next_token, str) and next_token:
                cursor.next_token = next_token[:200]
                cursor.save(
                    update_fields=[
                        "next_token",
                        "pending_newest_id",
                        "start_time",
                        "lease_until",
                        "rate_remaining",
                        "rate_reset_at",
                    ]
                )
                continue
            if cursor.pending_newest_id:
                cursor.since_id = cursor.pending_newest_id
            cursor.next_token = cursor.pending_newest_id = ""
            cursor.save(update_fields=["since_id", "next_token", "pending_newest_id", "start_time"])
            break
        cursor.last_error, cursor.failures = "", 0
        cursor.next_poll_at = now + timedelta(seconds=_interval(page, now))
    except x.XRateLimited as exc:
        result.error, result.paused_until = exc.reason, exc.reset_at
        cursor.paused_until = cursor.next_poll_at = exc.reset_at
        cursor.last_error = exc.reason
        _rate_seen(cursor, 0, exc.reset_at)
    except x.XRefused as exc:
        if cursor.next_token:
            # A stale page token: start the search again from since_id (upserts are safe).
            cursor.next_token = cursor.pending_newest_id = ""
        result.error = cursor.last_error = exc.reason
        cursor.failures += 1
    except (x.XError, XAccountRevoked) as exc:
        result.error = cursor.last_error = exc.reason
        cursor.failures += 1
    except Exception as exc:  # nothing X sends may stop later polls
        log.exception("jam %s ingest failed", jam_id)
        result.error = cursor.last_error = f"unexpected {type(exc).__name__}"
        cursor.failures += 1
    if result.error and not result.paused_until:
        backoff = min(settings.SWEEP_INTERVAL * 2 ** min(cursor.failures, 6), 300)
        cursor.next_poll_at = now + timedelta(seconds=backoff)
        log.warning("jam %s ingest: %s", jam_id, result.error)
    cursor.last_polled_at = now
    cursor.lease_until = None
    cursor.last_error = cursor.last_error[:300]
    cursor.save()
    return result


def ingest_window(*, now: datetime) -> list[int]:
    """Jams to poll now: live ones, and those within X_INGEST_MARGIN_MINUTES of their
    start or end."""
    margin = timedelta(minutes=settings.X_INGEST_MARGIN_MINUTES)
    ids = set(Jam.objects.filter(status=JamStatus.LIVE).values_list("pk", flat=True))
    ids |= set(
        Jam.objects.filter(status=JamStatus.SCHEDULED, starts_at__lte=now + margin).values_list(
            "pk", flat=True
        )
    )
    ids |= set(
        Jam.objects.filter(
            status__in=[JamStatus.ENDED, JamStatus.ARCHIVED], ended_at__gte=now - margin
        ).values_list("pk", flat=True)
    )
    return sorted(ids)


def x_disabled_jams(jam_ids: list[int]) -> set[int]:
    """Of these jams, those whose host turned X off (a jam without an X row runs on X)."""
    return set(
        JamNetwork.objects.filter(jam_id__in=jam_ids, network=Network.X, enabled=False).values_list(
            "jam_id", flat=True
        )
    )


def x_window(*, now: datetime) -> list[int]:
    """The jams in the ingest window that run on X."""
    jam_ids = ingest_window(now=now)
    off = x_disabled_jams(jam_ids)
    return [jam_id for jam_id in jam_ids if jam_id not in off]


def ingest_due(*, now: datetime) -> list[int]:
    """Jams on X in the window whose next poll is due."""
    due = []
    window = x_window(now=now)
    cursors = {c.jam_id: c for c in IngestCursor.objects.filter(jam_id__in=window)}
    for jam_id in window:
        cursor = cursors.get(jam_id)
        if cursor is None or cursor.next_poll_at is None or cursor.next_poll_at <= now:
            due.append(jam_id)
    return due
