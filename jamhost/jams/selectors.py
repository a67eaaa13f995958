"""Reads of jams that more than one caller needs, with their related objects decided once."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from cachetools import LRUCache
from django.db.models import Q, QuerySet
from django.utils import timezone

from jamhost.jams.models import Invite, Jam, JamStatus, Membership, Question, Role
from jamhost.prepared import Prepared, text

# Released questions per (jam, header rev): every compose box answer lists them, and
# they change only when a question is released, which takes a new header rev (a
# released question cannot be edited, moved or deleted).
_RELEASED_KEEP = 256
_released: LRUCache[tuple[int, Any, int], list[Question]] = LRUCache(maxsize=_RELEASED_KEEP)
_released_lock = threading.Lock()  # read from several request threads at once


_JAM_BY_SLUG: Prepared[Jam] = Prepared(lambda slug: Jam.objects.filter(slug=slug)[:1], text(0))


def jam_by_slug(slug: str) -> Jam | None:
    """The jam with this slug (its own row only), or None. Every compose POST reads it:
    compiled once (jamhost.prepared)."""
    return _JAM_BY_SLUG.first(slug)


def released_of(questions: Iterable[Question]) -> list[Question]:
    """Of these questions (already read), the released ones in the order given. With
    released_filter, the one rule for which questions are released."""
    return [q for q in questions if q.is_released]


def released_filter(*, released: bool = True) -> Q:
    """The released (or, with released=False, unreleased) questions, in a query."""
    return Q(released_at__isnull=not released)


def questions_released(*, jam: Jam) -> list[Question]:
    """The jam's released questions in order, read once per header rev per process."""
    key = (jam.pk, jam.created_at, jam.header_rev)
    with _released_lock:
        released = _released.get(key)
    if released is None:
        released = released_of(jam.questions.all())
        with _released_lock:
            _released[key] = released
    return released


def jam_list_live() -> QuerySet[Jam]:
    return Jam.objects.filter(status=JamStatus.LIVE).select_related("host").order_by("starts_at")


def jam_list_upcoming() -> QuerySet[Jam]:
    return (
        Jam.objects.filter(status=JamStatus.SCHEDULED, starts_at__gte=timezone.now())
        .select_related("host")
        .order_by("starts_at")
    )


def jam_list_past() -> QuerySet[Jam]:
    return (
        Jam.objects.filter(status__in=[JamStatus.ENDED, JamStatus.ARCHIVED])
        .select_related("host")
        .order_by("-starts_at")
    )


def jam_list_for_user(*, user: Any) -> list[tuple[Jam, str]]:
    """The jams a user hosts or is a member of, newest start first, with the user's role.
    Two queries, however many jams."""
    roles = dict(Membership.objects.filter(user_id=user.pk).values_list("jam_id", "role"))
    jams = (
        Jam.objects.filter(Q(host_id=user.pk) | Q(pk__in=list(roles)))
        .select_related("host")
        .order_by("-starts_at")
    )
    return [(jam, Role.HOST if jam.host_id == user.pk else roles[jam.pk]) for jam in jams]


def jam_people(*, jam: Jam) -> tuple[list[Membership], list[Invite]]:
    """The jam's members (host first) and its invites, newest first."""
    order: dict[str, int] = {Role.HOST: 0, Role.MODERATOR: 1, Role.PANELIST: 2}
    members = sorted(
        jam.memberships.select_related("user"),
        key=lambda m: (order.get(m.role, 9), m.user.get_username().lower()),
    )
    invites = list(jam.invites.select_related("accepted_by").order_by("-created_at"))
    return members, invites


def question_next(questions: Iterable[Question]) -> Question | None:
    """The next question out: of those not released, the earliest due (then the lowest
    number), as the sweep releases them. The live header counts down to it and the host's
    "Release next question" releases it."""
    upcoming = [q for q in questions if not q.is_released]
    return min(upcoming, key=lambda q: (q.offset_minutes, q.number), default=None)
