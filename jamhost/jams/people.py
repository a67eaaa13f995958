"""A jam's people: invites to moderate or sit on the panel, and memberships."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from jamhost.core import events
from jamhost.jams.models import (
    Invite,
    Jam,
    Membership,
    Role,
)


def invite_create(*, jam: Jam, role: str, actor: Any, note: str = "") -> Invite:
    if role not in (Role.MODERATOR, Role.PANELIST):
        raise ValidationError("Invite a moderator or a panelist.")
    if jam.is_over:
        raise ValidationError("The jam is over; invites are closed.")
    return Invite.objects.create(
        jam=jam,
        role=role,
        note=note.strip()[:120],
        token=secrets.token_urlsafe(24),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITE_DAYS),
    )


def invite_accept(*, token: str, user: Any, now: datetime | None = None) -> Membership:
    """Give the invite's role to the user. Each invite works once, for one person."""
    now = now or timezone.now()
    with transaction.atomic():
        invite = Invite.objects.select_for_update().select_related("jam").filter(token=token)
        # PostgreSQL refuses to compare text holding a NUL byte; no token holds one.
        found = None if "\x00" in token else invite.first()
        if found is None:
            raise ValidationError("This invite link is not valid. Ask the host for a new one.")
        if found.accepted_at is not None:
            who = "you" if found.accepted_by_id == user.pk else "someone else"
            raise ValidationError(
                f"This invite was already used by {who}. Each link works once; ask the host "
                "for a new one."
            )
        if found.expires_at <= now:
            raise ValidationError("This invite has expired. Ask the host for a new one.")
        if found.jam.is_over:
            raise ValidationError("This jam is over; its invites no longer work.")
        if found.jam.host_id == user.pk:
            raise ValidationError("You host this jam already; send the link to someone else.")
        membership, created = Membership.objects.get_or_create(
            jam=found.jam, user=user, defaults={"role": found.role}
        )
        if not created and membership.role != found.role:
            membership.role = found.role
            membership.save(update_fields=["role"])
        found.accepted_by = user
        found.accepted_at = now
        found.save(update_fields=["accepted_by", "accepted_at"])
    return membership


def membership_remove(*, jam: Jam, user_id: int, actor: Any) -> None:
    if jam.host_id == user_id:
        raise ValidationError("The host cannot be removed from their own jam.")
    if not (actor.is_staff or jam.host_id == actor.pk):
        raise PermissionDenied("Only the host can remove people from the jam.")
    with transaction.atomic():
        Membership.objects.filter(jam=jam, user_id=user_id).delete()
    events.send_on_commit(events.UserRolesChanged(jam_id=jam.pk, user_id=user_id))
