"""The polls sweep: opens run-sheet polls that are due, closes polls whose time is up
(and every open poll of a jam that is no longer live), and reads ended X polls once.

Idempotent like the questions' sweep: poll_open and poll_close lock the jam row and
re-check, so two sweeps at once open and close each poll once; an X poll is read after
claiming it with one conditional UPDATE."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from jamhost import metrics
from jamhost.jams.models import JamStatus
from jamhost.polls.models import Poll, PollState
from jamhost.polls.services import poll_close, poll_open
from jamhost.polls.x_polls import poll_x_read, polls_x_due

log = logging.getLogger(__name__)


@dataclass
class PollSweepResult:
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    read_on_x: list[int] = field(default_factory=list)


@metrics.timed_sweep("polls")
def polls_sweep(*, now: datetime | None = None) -> PollSweepResult:
    now = now or timezone.now()
    result = PollSweepResult()
    waiting = Poll.objects.filter(
        state=PollState.WAITING, offset_minutes__isnull=False, jam__status=JamStatus.LIVE
    ).select_related("jam")
    for poll in sorted(waiting, key=lambda p: (p.jam_id, p.offset_minutes or 0, p.pk)):
        opens = poll.open_at(poll.jam.starts_at)
        if opens is None or opens > now:
            continue
        try:
            opened = poll_open(poll=poll, now=now)
        except ValidationError as exc:  # the jam ended between the query and the lock
            log.info("not opening poll %s: %s", poll.pk, exc)
            continue
        except Poll.DoesNotExist:  # taken off the run-sheet between the query and the lock
            log.info("not opening poll %s: taken off the run-sheet", poll.pk)
            continue
        if opened.opened_at == now:
            result.opened.append(poll.pk)
    due = Poll.objects.filter(state=PollState.OPEN).filter(
        Q(closes_at__lte=now) | ~Q(jam__status=JamStatus.LIVE)
    )
    for poll in due:
        closed = poll_close(poll=poll, now=now)
        if closed.closed_at == now:
            result.closed.append(poll.pk)
    for poll_id in polls_x_due(now=now):
        if poll_x_read(poll_id=poll_id, now=now) == "read":
            result.read_on_x.append(poll_id)
    return result
