"""Poll services: the one place polls change. Each change people see locks the jam row
(the order every live change takes), takes the jam's next rev for the poll and publishes
the poll's fragment after commit (polls.live)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from jamhost.jams.models import Jam, JamStatus
from jamhost.jams.permissions import can_moderate
from jamhost.polls.audit import (
    poll_audit_add,
    poll_audit_close,
    poll_audit_launch,
    poll_audit_remove,
    poll_audit_x,
)
from jamhost.polls.changes import poll_locked, poll_stamp
from jamhost.polls.models import Poll, PollOption, PollState, PollVote
from jamhost.polls.rules import (
    poll_minutes_clean,
    poll_offset_clean,
    poll_options_clean,
    poll_text_clean,
)
from jamhost.polls.x_polls import poll_x_check, poll_x_queue


def _require_moderator(jam: Jam, user: Any) -> None:
    if not can_moderate(user=user, jam=jam):
        raise PermissionDenied("Only the host or a moderator can add polls to this jam.")


def _create(
    *,
    jam: Jam,
    user: Any,
    text: str,
    options: Sequence[str],
    open_minutes: object,
    offset_minutes: int | None,
    on_x: bool,
) -> Poll:
    cleaned_text = poll_text_clean(text)
    cleaned = poll_options_clean(options)
    minutes = poll_minutes_clean(open_minutes, on_x=on_x)
    if on_x:
        poll_x_check(jam=jam, text=cleaned_text)
    poll = Poll.objects.create(
        jam=jam,
        text=cleaned_text,
        offset_minutes=offset_minutes,
        open_minutes=minutes,
        created_by=user if getattr(user, "pk", None) else None,
        on_x=on_x,
    )
    PollOption.objects.bulk_create(
        PollOption(poll=poll, position=n, text=option) for n, option in enumerate(cleaned, 1)
    )
    return poll


def poll_add(
    *,
    jam: Jam,
    user: Any,
    text: str,
    options: Sequence[str],
    open_minutes: object,
    offset_minutes: object,
    on_x: bool = False,
) -> Poll:
    """Put a poll on the run-sheet: the sweep opens it at the jam's start plus
    `offset_minutes`. Audited. Raises PermissionDenied or ValidationError (nothing
    stored)."""
    _require_moderator(jam, user)
    if jam.is_over:
        raise ValidationError("This jam has ended; its run-sheet takes no more polls.")
    offset = poll_offset_clean(offset_minutes, duration_minutes=jam.duration_minutes)
    with transaction.atomic():
        poll = _create(
            jam=jam,
            user=user,
            text=text,
            options=options,
            open_minutes=open_minutes,
            offset_minutes=offset,
            on_x=on_x,
        )
        poll_audit_add(poll, actor=user)
    return poll


def poll_launch(
    *,
    jam: Jam,
    user: Any,
    text: str,
    options: Sequence[str],
    open_minutes: object,
    on_x: bool = False,
    now: datetime | None = None,
) -> Poll:
    """Open a poll now, in a live jam (audited, as is its going to X). Raises
    PermissionDenied or ValidationError."""
    _require_moderator(jam, user)
    if jam.status != JamStatus.LIVE:
        raise ValidationError("A poll can be launched only while the jam is live.")
    with transaction.atomic():
        poll = _create(
            jam=jam,
            user=user,
            text=text,
            options=options,
            open_minutes=open_minutes,
            offset_minutes=None,
            on_x=on_x,
        )
        opened = poll_open(poll=poll, now=now, actor=user)
        poll_audit_launch(opened, actor=user)
    return opened


def poll_delete(*, poll: Poll, user: Any) -> None:
    """Take a poll off the run-sheet (audited once, however many send it). Only a poll not
    yet opened; nothing was shown. Under the jam's row lock, so it never races the sweep
    opening the same poll."""
    _require_moderator(poll.jam, user)
    with transaction.atomic():
        try:
            locked = poll_locked(poll.pk)
        except Poll.DoesNotExist:
            return  # taken off already
        if locked.state != PollState.WAITING:
            raise ValidationError("This poll has opened; an opened poll stays in the jam's record.")
        poll_audit_remove(locked, actor=user)
        locked.delete()


def poll_open(*, poll: Poll, now: datetime | None = None, actor: Any = None) -> Poll:
    """Open a waiting poll until now + open_minutes. Idempotent: a poll already opened is
    returned as it is, so two sweeps open it once. A poll going to X is queued for X, and
    that is audited as the actor's (None: the sweep's)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = poll_locked(poll.pk)
        if locked.state != PollState.WAITING:
            return locked
        if locked.jam.status != JamStatus.LIVE:
            raise ValidationError("A poll opens only while its jam is live.")
        locked.state = PollState.OPEN
        locked.opened_at = now
        locked.closes_at = now + timedelta(minutes=locked.open_minutes)
        poll_stamp(locked, "state", "opened_at", "closes_at")
        if locked.on_x:
            poll_x_queue(poll=locked)
            poll_audit_x(locked, actor=actor)
    return locked


def poll_close(*, poll: Poll, now: datetime | None = None, actor: Any = None) -> Poll:
    """Close an open poll (idempotent). Its counts are final from here. With an actor
    (closed before its time by a person) the close is audited, once however many send it."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = poll_locked(poll.pk)
        if locked.state != PollState.OPEN:
            return locked
        locked.state = PollState.CLOSED
        locked.closed_at = now
        poll_stamp(locked, "state", "closed_at")
        if actor is not None:
            poll_audit_close(locked, actor=actor, was_closing_at=locked.closes_at)
    return locked


def poll_close_now(*, poll: Poll, user: Any, now: datetime | None = None) -> Poll:
    """Close an open poll before its time (the host or a moderator)."""
    if not can_moderate(user=user, jam=poll.jam):
        raise PermissionDenied("Only the host or a moderator can close a poll.")
    if poll.state == PollState.WAITING:
        raise ValidationError("This poll has not opened; take it off the run-sheet instead.")
    return poll_close(poll=poll, now=now, actor=user)


def _option(poll: Poll, position: object) -> PollOption:
    count = poll.options.count()
    # Only the form's own values, "1" to "4": not " 2", "+1", "1_0" or "٣", which int() takes.
    raw = str(position)
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 2 else None
    option = poll.options.filter(position=number).first() if number is not None else None
    if option is None:
        raise ValidationError(
            f"This poll has no option “{str(position)[:20]}”; pick one of its {count} options."
        )
    return option


def poll_vote(
    *,
    poll_id: int,
    user: Any,
    option: object,
    jam_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Poll, bool]:
    """Count the user's vote for the option at `option` (its position, 1 to 4). One vote per
    person per poll; voting again for another option moves the vote until the poll closes.
    Returns (poll, changed). Raises PermissionDenied (not signed in), Poll.DoesNotExist
    (no such poll in the jam) or ValidationError (closed, not open yet, no such option);
    a refused vote changes nothing. Counts are recounted under the jam's row lock, so they
    are exact however many vote at once."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Sign in to vote in polls.")
    now = now or timezone.now()
    found = Poll.objects.filter(pk=poll_id)
    if jam_id is not None:
        found = found.filter(jam_id=jam_id)
    if not found.exists():
        raise Poll.DoesNotExist("no such poll in this jam")
    with transaction.atomic():
        poll = poll_locked(poll_id)
        if poll.state == PollState.WAITING:
            raise ValidationError("This poll is not open yet.")
        if poll.state == PollState.CLOSED or (poll.closes_at is not None and poll.closes_at <= now):
            raise ValidationError("This poll has closed; votes are no longer counted.")
        chosen = _option(poll, option)
        ballot = PollVote.objects.filter(poll=poll, user_id=user.pk).first()
        if ballot is not None and ballot.option_id == chosen.pk:
            return poll, False
        try:
            with transaction.atomic():
                if ballot is None:
                    PollVote.objects.create(
                        poll=poll, option=chosen, user_id=user.pk, created_at=now, updated_at=now
                    )
                else:
                    ballot.option, ballot.updated_at = chosen, now
                    ballot.save(update_fields=["option", "updated_at"])
        except IntegrityError:  # the same person's other vote, sent at the same moment
            return poll, False
        _recount(poll)
        poll_stamp(poll, "votes")
    return poll, True


def _recount(poll: Poll) -> None:
    counts = dict(
        PollVote.objects.filter(poll=poll).values_list("option_id").annotate(n=Count("pk"))
    )
    options = list(poll.options.all())
    for each in options:
        each.votes = counts.get(each.pk, 0)
    PollOption.objects.bulk_update(options, ["votes"])
    poll.votes = sum(counts.values())


def poll_votes_forget_user(*, user_id: int) -> list[int]:
    """Delete every poll vote the user gave (their account is going) and store each poll's
    new counts with a new rev, published after commit. Polls are taken in jam then poll
    order (the order jam rows are locked in). Returns the polls recounted."""
    with transaction.atomic():
        poll_ids = list(
            PollVote.objects.filter(user_id=user_id)
            .order_by("poll__jam_id", "poll_id")
            .values_list("poll_id", flat=True)
        )
        for poll_id in poll_ids:
            poll = poll_locked(poll_id)
            PollVote.objects.filter(poll=poll, user_id=user_id).delete()
            _recount(poll)
            poll_stamp(poll, "votes")
    return poll_ids
