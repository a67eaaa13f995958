"""RSVP and reminders: anyone may ask to be reminded of a scheduled jam; its panelists and
moderators are reminded without asking. Email, 24 hours and 15 minutes before the start,
with the `.ics` and the room's link, and one-click unsubscribe.

The sweep is idempotent: a reminder is claimed by inserting its ReminderSent row (unique
per person, kind and start) in the transaction that sends it. A second sweep at the same
moment waits on that row and then finds it taken; a send that fails rolls the claim back,
so the next sweep tries again. Only a process killed between the mail server's answer and
the commit can send one twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from jamhost import metrics
from jamhost.jams.ics import jam_ical
from jamhost.jams.models import (
    Jam,
    JamStatus,
    Membership,
    ReminderKind,
    ReminderSent,
    Role,
    Rsvp,
)
from jamhost.links import absolute_url

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "jamhost.jams.reminders.unsubscribe"
# When each kind of reminder is due: from `before` the start until `until` before it.
# A day reminder not sent by an hour before the start is left out (the 15-minute one
# follows), so an RSVP made late gets one reminder, not two in a row.
WINDOWS = {
    ReminderKind.DAY: (timedelta(hours=24), timedelta(hours=1)),
    ReminderKind.SOON: (timedelta(minutes=15), timedelta(0)),
}
REMINDED_ROLES = (Role.PANELIST, Role.MODERATOR)


def email_clean(raw: str) -> str:
    """The address lower-cased, or ValidationError with a message a person can act on."""
    email = (raw or "").strip().lower()
    try:
        if "\x00" in email or len(email) > 254:
            raise ValidationError("bad")
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"email": "Enter a valid email address, like name@example.org."}
        ) from None
    return email


def rsvp_create(*, jam: Jam, email: str, user: Any = None) -> Rsvp:
    """Ask to be reminded of `jam`. Idempotent per address; asking again after
    unsubscribing subscribes again. Refused for a jam that is not scheduled or has
    started."""
    email = email_clean(email)
    if jam.status != JamStatus.SCHEDULED or jam.starts_at <= timezone.now():
        raise ValidationError("Reminders are for scheduled jams that have not started yet.")
    signed_in = user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        rsvp, created = Rsvp.objects.select_for_update().get_or_create(
            jam=jam, email=email, defaults={"user": signed_in, "asked": True}
        )
        if not created and (rsvp.unsubscribed_at is not None or not rsvp.asked):
            rsvp.unsubscribed_at, rsvp.asked = None, True
            rsvp.save(update_fields=["unsubscribed_at", "asked"])
    return rsvp


def unsubscribe_token(rsvp: Rsvp) -> str:
    return signing.dumps(rsvp.pk, salt=UNSUBSCRIBE_SALT)


def rsvp_from_token(token: str) -> Rsvp:
    """The Rsvp an unsubscribe link names, or ValidationError for a link not made here."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return Rsvp.objects.select_related("jam").get(pk=int(pk))
    except (signing.BadSignature, Rsvp.DoesNotExist, TypeError, ValueError):
        raise ValidationError(
            "This unsubscribe link is damaged or was not made by this site. "
            "Use the link from the latest reminder."
        ) from None


def rsvp_unsubscribe(*, token: str) -> Rsvp:
    """Stop every reminder of this jam to this address. Idempotent."""
    rsvp = rsvp_from_token(token)
    Rsvp.objects.filter(pk=rsvp.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now()
    )
    rsvp.refresh_from_db()
    return rsvp


def rsvp_count(*, jam: Jam) -> int:
    """How many are coming: the people who asked to be reminded (and did not take it
    back), and the jam's panelists and moderators."""
    asked = Rsvp.objects.filter(jam=jam, asked=True, unsubscribed_at__isnull=True).count()
    return asked + Membership.objects.filter(jam=jam, role__in=REMINDED_ROLES).count()


def members_enrol(*, jam: Jam) -> None:
    """Enrol the jam's panelists and moderators who have an email address (never one who
    unsubscribed: their row stays)."""
    members = Membership.objects.filter(jam=jam, role__in=REMINDED_ROLES).select_related("user")
    rows = []
    for m in members:
        try:
            email = email_clean(m.user.email)
        except ValidationError:
            continue
        rows.append(Rsvp(jam=jam, email=email, user=m.user, asked=False))
    Rsvp.objects.bulk_create(rows, ignore_conflicts=True)


def reminder_message(*, rsvp: Rsvp, jam: Jam, kind: str) -> EmailMessage:
    room = absolute_url(reverse("live:room", args=[jam.slug]))
    page = absolute_url(jam.get_absolute_url())
    unsubscribe = absolute_url(reverse("jams:unsubscribe", args=[unsubscribe_token(rsvp)]))
    when = "in 24 hours" if kind == ReminderKind.DAY else "in 15 minutes"
    start = jam.starts_at.astimezone(UTC)
    body = "\n".join(
        [
            f"{jam.title} ({jam.tag}) starts {when}: {start:%A %d %B %Y, %H:%M} UTC.",
            "",
            f"Join the live room: {room}",
            f"About the jam: {page}",
            "The attached calendar file adds it to your calendar.",
            "",
            f"Stop these reminders (one click): {unsubscribe}",
        ]
    )
    message = EmailMessage(
        subject=f"Starting {when}: {jam.title} ({jam.tag})",
        body=body,
        to=[rsvp.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach(f"{jam.slug}.ics", jam_ical(jam, url=page), "text/calendar")
    return message


def _due_kinds(jam: Jam, now: datetime) -> list[str]:
    return [
        kind
        for kind, (before, until) in WINDOWS.items()
        if jam.starts_at - before <= now < jam.starts_at - until
    ]


def _send_one(*, rsvp: Rsvp, jam: Jam, kind: str, now: datetime) -> bool:
    """Claim and send one reminder in one transaction; False when it was taken, or the
    jam moved or was cancelled meanwhile."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReminderSent.objects.create(
                    rsvp=rsvp, kind=kind, starts_at=jam.starts_at, sent_at=now
                )
        except IntegrityError:
            return False
        current = Jam.objects.filter(pk=jam.pk).values("status", "starts_at").first()
        if current != {"status": JamStatus.SCHEDULED, "starts_at": jam.starts_at}:
            transaction.set_rollback(True)
            return False
        if Rsvp.objects.filter(pk=rsvp.pk, unsubscribed_at__isnull=True).exists():
            reminder_message(rsvp=rsvp, jam=jam, kind=kind).send()
            return True
        transaction.set_rollback(True)
        return False


@dataclass
class RemindersSweep:
    sent: list[tuple[int, str]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


@metrics.timed_sweep("reminders")
def reminders_sweep(*, now: datetime | None = None) -> RemindersSweep:
    """Send every reminder due now, once (see the module's docstring). Only scheduled
    jams are reminded of: a jam put back to draft (cancelled) is not, and a moved jam's
    reminders follow its new start."""
    now = now or timezone.now()
    result = RemindersSweep()
    jams = Jam.objects.filter(
        status=JamStatus.SCHEDULED, starts_at__gt=now, starts_at__lte=now + timedelta(hours=24)
    )
    for jam in jams:
        kinds = _due_kinds(jam, now)
        if not kinds:
            continue
        members_enrol(jam=jam)
        for kind in kinds:
            sent = ReminderSent.objects.filter(
                rsvp=OuterRef("pk"), kind=kind, starts_at=jam.starts_at
            )
            waiting = Rsvp.objects.filter(jam=jam, unsubscribed_at__isnull=True).exclude(
                Exists(sent)
            )
            for rsvp in waiting:
                try:
                    if _send_one(rsvp=rsvp, jam=jam, kind=kind, now=now):
                        result.sent.append((rsvp.pk, kind))
                except Exception:  # the mail server refused or is down: next sweep retries
                    log.warning("reminder %s to rsvp %s not sent", kind, rsvp.pk, exc_info=True)
                    result.failed.append((rsvp.pk, kind))
    return result
