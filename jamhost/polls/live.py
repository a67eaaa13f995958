"""Polls on the posts' live path. A poll's fragment (templates/polls/_poll.html) is the
same for every audience and every socket; it carries `data-rev` and
`data-live-key="poll-<id>"`. The bus carries that key beside the html, so the hub keeps
only the poll's newest state for catch-up, and live.js applies it only when newer than
the one shown.
Catch-up from the database reads polls through the live_parts hook (jamhost.core.hooks)."""

from __future__ import annotations

import copy
import threading
from decimal import Decimal

from cachetools import LRUCache
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

from jamhost.live import bus
from jamhost.polls.models import Poll, PollOption
from jamhost.posts.render import AUDIENCES

_CACHE_SIZE = 512
# Keyed with the poll's creation time too: a database restored from backup (or a test's
# fresh one) can hold another poll with the same id and rev.
_cache: LRUCache[tuple[int, object, int], str] = LRUCache(_CACHE_SIZE)
_lock = threading.Lock()  # rendered from several database threads at once


def poll_key(poll_id: int) -> str:
    return f"poll-{poll_id}"


def poll_shares(poll: Poll, options: list[PollOption]) -> list[dict[str, object]]:
    """Each option with its count and its whole-percent share of the votes."""
    total = poll.votes
    return [
        {
            "position": option.position,
            "text": option.text,
            "votes": option.votes,
            "share": round(100 * option.votes / total) if total else 0,
        }
        for option in options
    ]


def x_shares(poll: Poll) -> list[dict[str, object]]:
    options = poll.x_results.get("options") or []
    total = sum(int(option.get("votes", 0)) for option in options)
    return [
        {
            "position": option.get("position"),
            "text": option.get("label", ""),
            "votes": int(option.get("votes", 0)),
            "share": round(100 * int(option.get("votes", 0)) / total) if total else 0,
        }
        for option in options
    ]


def render_poll(poll: Poll, options: list[PollOption] | None = None) -> str:
    """The poll's fragment, rendered once per (poll, rev)."""
    key = (poll.pk, poll.created_at, poll.rev)
    with _lock:
        text = _cache.get(key)
    if text is None:
        text = render_to_string(
            "polls/_poll.html",
            {
                "poll": poll,
                "slug": poll.jam.slug,
                "options": poll_shares(
                    poll, list(poll.options.all()) if options is None else options
                ),
                "x_options": x_shares(poll),
                "x_read_cost": f"{Decimal(str(settings.X_PRICE_READ)) * poll.x_reads:.3f}",
            },
        )
        with _lock:
            _cache[key] = text
    return text


def poll_changed_on_commit(poll: Poll) -> None:
    """Publish the poll's new state to every screen of its jam after commit."""
    # The state as this transaction leaves it: by the time it has committed, a newer
    # change may have committed too, and that one publishes itself with its own rev.
    state = copy.copy(poll)
    options = list(PollOption.objects.filter(poll_id=poll.pk).order_by("position"))

    def publish() -> None:
        part = (poll_key(state.pk), render_poll(state, options))
        bus.publish(jam_id=state.jam_id, rev=state.rev, frames=dict.fromkeys(AUDIENCES, (part,)))

    transaction.on_commit(publish)


def poll_parts(
    jam: object, audience: str, after: int, upto: int
) -> list[tuple[int, str | None, str]]:
    """The live_parts hook: polls whose rev is in (after, upto], in their current state."""
    polls = (
        Poll.objects.filter(jam_id=jam.pk, rev__gt=after, rev__lte=upto)  # type: ignore[attr-defined]
        .select_related("jam")
        .prefetch_related("options")
        .order_by("rev")
    )
    return [(poll.rev, poll_key(poll.pk), render_poll(poll)) for poll in polls]
