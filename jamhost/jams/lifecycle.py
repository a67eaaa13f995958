"""A jam's lifecycle: draft, scheduled, live, ended (archived by jamhost.transcripts),
and the changes a running jam's header shows (its end, its moderation mode)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jamhost.core import events
from jamhost.jams.counters import jam_next_rev
from jamhost.jams.locks import jam_lock
from jamhost.jams.models import (
    Jam,
    JamStatus,
    ModerationMode,
)
from jamhost.jams.services import MAX_DURATION_MINUTES, hashtag_check_available

TRANSITIONS: dict[str, set[str]] = {
    JamStatus.DRAFT: {JamStatus.SCHEDULED},
    JamStatus.SCHEDULED: {JamStatus.DRAFT, JamStatus.LIVE},
    JamStatus.LIVE: {JamStatus.ENDED},
    JamStatus.ENDED: {JamStatus.ARCHIVED},
    JamStatus.ARCHIVED: set(),
}


def _check_transition(jam: Jam, target: str) -> None:
    if target not in TRANSITIONS[jam.status]:
        status = jam.get_status_display().lower()
        article = "An" if status[:1] in "aeiou" else "A"
        raise ValidationError(
            f"{article} {status} jam cannot become {target}.",
            code="invalid_transition",
        )


def jam_stamp_header(jam: Jam) -> None:
    """Take a rev for a change to the jam's header (status, current question, end)."""
    _, rev = jam_next_rev(jam_id=jam.pk, header_changed=True)
    jam.rev = jam.header_rev = rev
    events.send_on_commit(events.JamChanged(jam=jam, rev=rev))


def jam_schedule(*, jam: Jam, now: datetime | None = None) -> Jam:
    """Draft -> scheduled. Refused when the jam has no questions or starts in the past."""
    now = now or timezone.now()
    with transaction.atomic():
        jam = jam_lock(jam)
        _check_transition(jam, JamStatus.SCHEDULED)
        if not jam.questions.exists():
            raise ValidationError("Add at least one question before scheduling the jam.")
        if jam.starts_at <= now:
            raise ValidationError(
                "The start time has passed. Move the start into the future, then schedule."
            )
        jam.status = JamStatus.SCHEDULED
        jam.save(update_fields=["status", "updated_at"])
    return jam


def jam_unschedule(*, jam: Jam) -> Jam:
    with transaction.atomic():
        jam = jam_lock(jam)
        _check_transition(jam, JamStatus.DRAFT)
        jam.status = JamStatus.DRAFT
        jam.save(update_fields=["status", "updated_at"])
    return jam


def jam_go_live(*, jam: Jam, now: datetime | None = None) -> Jam:
    """Scheduled -> live. Idempotent: a live jam is returned unchanged."""
    now = now or timezone.now()
    with transaction.atomic():
        jam = jam_lock(jam)
        if jam.status == JamStatus.LIVE:
            return jam
        _check_transition(jam, JamStatus.LIVE)
        jam.status = JamStatus.LIVE
        jam.went_live_at = now
        jam_stamp_header(jam)
        jam.save(update_fields=["status", "went_live_at", "updated_at"])
    return jam


def jam_end(*, jam: Jam, now: datetime | None = None) -> Jam:
    """Live -> ended (on time, or early by the host). Idempotent for an ended jam."""
    now = now or timezone.now()
    with transaction.atomic():
        jam = jam_lock(jam)
        if jam.status in (JamStatus.ENDED, JamStatus.ARCHIVED):
            return jam
        _check_transition(jam, JamStatus.ENDED)
        jam.status = JamStatus.ENDED
        jam.ended_at = now
        jam_stamp_header(jam)
        jam.save(update_fields=["status", "ended_at", "updated_at"])
        events.send_on_commit(events.JamEnded(jam_id=jam.pk))  # transcripts archives it
    return jam


def jam_extend(*, jam: Jam, minutes: int, time_zone: tzinfo | None = None) -> Jam:
    """Add minutes to a live or scheduled jam. Refused when the longer jam would run into
    another jam's reservation of the same hashtag."""
    if not 1 <= minutes <= 240:
        raise ValidationError("Extend by 1 to 240 minutes.")
    with transaction.atomic():
        jam = jam_lock(jam)
        if jam.status not in (JamStatus.LIVE, JamStatus.SCHEDULED):
            raise ValidationError("Only a scheduled or live jam can be extended.")
        if jam.duration_minutes + minutes > MAX_DURATION_MINUTES:
            raise ValidationError(f"A jam lasts at most {MAX_DURATION_MINUTES} minutes.")
        # The reservation follows the new end: refuse to run into another jam's.
        hashtag_check_available(
            hashtag=jam.hashtag,
            starts_at=jam.starts_at,
            duration_minutes=jam.duration_minutes + minutes,
            exclude_jam_id=jam.pk,
            time_zone=time_zone,
        )
        jam.duration_minutes += minutes
        jam_stamp_header(jam)
        jam.save(update_fields=["duration_minutes", "updated_at"])
    return jam


def jam_set_moderation_mode(*, jam: Jam, mode: str) -> Jam:
    if mode not in ModerationMode.values:
        raise ValidationError("Choose post-moderation or pre-moderation.")
    with transaction.atomic():
        jam = jam_lock(jam)
        jam.moderation_mode = mode
        jam_stamp_header(jam)
        jam.save(update_fields=["moderation_mode", "updated_at"])
    return jam
