"""Who may do what in a jam. One place, so views, consumers and services agree."""

from __future__ import annotations

from typing import Any

from jamhost.jams.models import Jam, JamStatus, Membership, Role


def jam_role(*, user: Any, jam: Jam) -> str | None:
    """The user's role in the jam (host, moderator, panelist), or None."""
    if user is None or not user.is_authenticated:
        return None
    if jam.host_id == user.pk:
        return Role.HOST
    return role_from_membership(
        user=user,
        jam=jam,
        membership_role=Membership.objects.filter(jam=jam, user_id=user.pk)
        .values_list("role", flat=True)
        .first(),
    )


def role_from_membership(*, user: Any, jam: Jam, membership_role: str | None) -> str | None:
    """jam_role, given the user's membership role already read with other things."""
    if user is None or not user.is_authenticated:
        return None
    if jam.host_id == user.pk:
        return Role.HOST
    return membership_role


def can_edit(*, user: Any, jam: Jam) -> bool:
    return bool(user and user.is_authenticated and (jam.host_id == user.pk or user.is_staff))


def can_moderate(*, user: Any, jam: Jam) -> bool:
    if not (user and user.is_authenticated):
        return False
    if user.is_staff:
        return True
    return jam_role(user=user, jam=jam) in (Role.HOST, Role.MODERATOR)


def can_see_run_sheet(*, user: Any, jam: Jam) -> bool:
    if not (user and user.is_authenticated):
        return False
    return user.is_staff or jam_role(user=user, jam=jam) is not None


def open_to_all(jam: Jam) -> bool:
    """Anyone may read a jam once it is scheduled, signed in or not."""
    return jam.status != JamStatus.DRAFT


def can_view(*, user: Any, jam: Jam) -> bool:
    """A draft is the host's work in progress, seen only by its people and staff."""
    return open_to_all(jam) or can_see_run_sheet(user=user, jam=jam)
