"""How a poll changes on the live path: under its jam's row lock (taken first, as every
live change takes it), with the jam's next rev, published after commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from jamhost.jams.counters import jam_next_rev
from jamhost.jams.models import Jam
from jamhost.polls.live import poll_changed_on_commit
from jamhost.polls.models import Poll, XPollState


def poll_locked(poll_id: int) -> Poll:
    """The poll, read after taking its jam's row lock. Call inside transaction.atomic()."""
    jam_id = Poll.objects.values_list("jam_id", flat=True).get(pk=poll_id)
    Jam.objects.select_for_update().filter(pk=jam_id).values_list("pk", flat=True).first()
    return Poll.objects.select_related("jam").get(pk=poll_id)


def poll_stamp(poll: Poll, *fields: str) -> None:
    """Save the fields with the jam's next rev and publish the poll after commit."""
    _, poll.rev = jam_next_rev(jam_id=poll.jam_id)
    poll.save(update_fields=[*fields, "rev"])
    poll_changed_on_commit(poll)


def poll_x_results_store(
    *, poll_id: int, results: dict[str, Any], reads: int, error: str = ""
) -> Poll:
    """Record what reading the X poll found (or why it could not), with what it cost.
    When a read whose lease ran out finishes after the one that took it over, its reads
    are still counted, but the results first stored stay."""
    with transaction.atomic():
        poll = poll_locked(poll_id)
        if poll.x_state != XPollState.QUEUED:
            poll.x_reads += reads
            poll_stamp(poll, "x_reads")
            return poll
        poll.x_results = results
        poll.x_reads += reads
        poll.x_read_at = poll.x_read_at or timezone.now()
        poll.x_state = XPollState.READ if results else XPollState.FAILED
        poll.x_error = error[:300]
        poll_stamp(poll, "x_results", "x_reads", "x_read_at", "x_state", "x_error")
    return poll
