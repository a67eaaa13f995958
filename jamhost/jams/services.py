"""Writes that create and edit a jam: its hashtag reservation, slug, times and settings.
The jam's status changes are in jams.lifecycle, its questions in jams.run_sheet, its
people in jams.people.

Every function validates and raises ValidationError with a message a person can act on,
writes inside transaction.atomic(), and tells live screens through jamhost.live.publish
after commit.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from jamhost.jams.hashtags import (
    hashtag_clean,
    hashtag_key,
    reservation_lock_id,
    reservation_window,
)
from jamhost.jams.models import (
    DeletedAuthorPolicy,
    Jam,
    JamStatus,
    Membership,
    ModerationMode,
    Role,
)

MAX_DURATION_MINUTES = 24 * 60
MAX_START_DISTANCE = timedelta(days=50 * 365)


def hashtag_check_available(
    *,
    hashtag: str,
    starts_at: datetime,
    duration_minutes: int,
    exclude_jam_id: int | None = None,
    viewer: Any = None,
    time_zone: tzinfo | None = None,
) -> None:
    """Raise ValidationError if another jam holds the tag in an overlapping window.

    A jam holds its tag from `margin` before its start to `margin` after its end (its
    real start and end once it has gone live or ended: hashtags.reservation_window), so
    two jams with the same tag must be at least `margin` apart (the margin is counted
    once, as the error message says). The message gives times in `time_zone` (the
    host's; UTC when not given).

    Call it inside the transaction that writes the jam: it takes the tag's reservation
    lock, held until commit, so of two hosts reserving one tag at the same moment one
    writes first and the other then sees that jam and gets this message.
    """
    key = hashtag_key(hashtag)
    _reservation_lock(key)
    margin = timedelta(minutes=settings.HASHTAG_MARGIN_MINUTES)
    start, end = starts_at, starts_at + timedelta(minutes=duration_minutes)
    candidates = Jam.objects.filter(hashtag_key=key)
    if exclude_jam_id is not None:
        candidates = candidates.exclude(pk=exclude_jam_id)
    # The SQL narrows by start time (no jam lasts longer than MAX_DURATION_MINUTES after
    # its scheduled start, and one started early began at went_live_at); the loop applies
    # each jam's own window.
    candidates = candidates.filter(
        Q(starts_at__lt=end + margin) | Q(went_live_at__lt=end + margin),
        starts_at__gt=start - margin - timedelta(minutes=MAX_DURATION_MINUTES),
    ).select_related("host")
    for other in candidates:
        other_start, other_end = reservation_window(
            other.starts_at,
            other.duration_minutes,
            went_live_at=other.went_live_at,
            ended_at=other.ended_at,
        )
        if other_start < end and start < other_end:
            visible = other.status != JamStatus.DRAFT or (
                viewer is not None and viewer.is_authenticated and other.host_id == viewer.pk
            )
            holder = f"“{other.title}”" if visible else "another jam"
            raise ValidationError(
                f"#{other.hashtag} is reserved by {holder} "
                f"{_span_text(*other.run, time_zone or UTC)}, plus "
                f"{settings.HASHTAG_MARGIN_MINUTES} minutes either side. Pick another "
                "time or hashtag.",
                code="hashtag_reserved",
            )


def _span_text(start: datetime, end: datetime, zone: tzinfo) -> str:
    """ "from 2026-05-04 18:00 to 19:00 (Europe/Berlin)", in the reader's zone."""
    start, end = start.astimezone(zone), end.astimezone(zone)
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
    name = getattr(zone, "key", None) or str(zone)
    return f"from {start:%Y-%m-%d %H:%M} to {until} ({name})"


def _reservation_lock(key: str) -> None:
    """Serialise reservations of one tag until the transaction ends. PostgreSQL: an
    advisory transaction lock on the folded tag (the check reads rows other transactions
    may be inserting, so a row lock cannot do it). SQLite: every write transaction
    already holds the database's write lock from its start (BEGIN IMMEDIATE)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a hashtag reservation must be checked inside a transaction")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [reservation_lock_id(key)])


def jam_save_with_unique_slug(jam: Jam, *, fallback: str = "jam") -> None:
    """Validate and insert a new jam under a slug made from its title, free at the moment
    of the insert: two jams created with one title at once both get one (the later a
    suffixed slug), never an error."""
    base = slugify(jam.title)[:60] or fallback
    slug = base
    for _attempt in range(10):
        while Jam.objects.filter(slug=slug).exists():
            slug = f"{base}-{secrets.token_hex(3)}"
        jam.slug = slug
        jam.full_clean(validate_unique=False)  # the insert itself is the uniqueness check
        try:
            with transaction.atomic():  # a savepoint: a clash rolls back this insert only
                jam.save(force_insert=True)
            return
        except IntegrityError:
            if not Jam.objects.filter(slug=slug).exists():
                raise  # another constraint: not ours to paper over
            slug = f"{base}-{secrets.token_hex(3)}"
    raise RuntimeError("no free slug after 10 attempts")


def _validate_times(starts_at: datetime, duration_minutes: int) -> None:
    if timezone.is_naive(starts_at):
        raise ValidationError("The start time needs a time zone.", code="naive")
    # Far-off dates are typing mistakes, and near datetime's limits the window
    # arithmetic would overflow.
    if abs(starts_at - timezone.now()) > MAX_START_DISTANCE:
        raise ValidationError(
            {"starts_at": "Pick a start time within 50 years of today."}, code="far_off"
        )
    if not 5 <= duration_minutes <= MAX_DURATION_MINUTES:
        raise ValidationError(
            {"duration_minutes": f"A jam lasts 5 to {MAX_DURATION_MINUTES} minutes."}
        )


def _validated(*, title: str, hashtag: str, starts_at: datetime, duration_minutes: int) -> str:
    """The checks creating and editing a jam share: a title, a valid hashtag, a start and
    a length in range. Returns the cleaned hashtag; raises ValidationError by field."""
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = ["Give the jam a title."]
    tag = ""
    try:
        tag = hashtag_clean(hashtag)
    except ValidationError as exc:
        errors["hashtag"] = exc.messages
    if errors:
        raise ValidationError(errors)
    _validate_times(starts_at, duration_minutes)
    return tag


def _hashtag_reserve(**window: Any) -> None:
    """hashtag_check_available, its refusal put on the form's hashtag field."""
    try:
        hashtag_check_available(**window)
    except ValidationError as exc:
        raise ValidationError({"hashtag": exc.messages}) from exc


def jam_create(
    *,
    host: Any,
    title: str,
    hashtag: str,
    starts_at: datetime,
    duration_minutes: int = 60,
    description: str = "",
    moderation_mode: str = ModerationMode.POST,
    deleted_author_policy: str = DeletedAuthorPolicy.ANONYMIZE,
    time_zone: tzinfo | None = None,
) -> Jam:
    """Create a draft jam that reserves its hashtag for its window; the host is a member.
    A clash names the holder and its times in `time_zone` (the host's)."""
    tag = _validated(
        title=title, hashtag=hashtag, starts_at=starts_at, duration_minutes=duration_minutes
    )
    with transaction.atomic():
        _hashtag_reserve(
            hashtag=tag,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            viewer=host,
            time_zone=time_zone,
        )
        jam = Jam(
            title=title.strip(),
            description=description.strip(),
            hashtag=tag,
            hashtag_key=hashtag_key(tag),
            host=host,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            moderation_mode=moderation_mode,
            deleted_author_policy=deleted_author_policy or DeletedAuthorPolicy.ANONYMIZE,
        )
        jam_save_with_unique_slug(jam)
        Membership.objects.create(jam=jam, user=host, role=Role.HOST)
    return jam


def jam_update(
    *,
    jam: Jam,
    title: str,
    hashtag: str,
    starts_at: datetime,
    duration_minutes: int,
    description: str = "",
    moderation_mode: str | None = None,
    deleted_author_policy: str | None = None,
    actor: Any = None,
    time_zone: tzinfo | None = None,
) -> Jam:
    """Edit a jam that has not gone live; the hashtag stays reserved for the new window.
    A moderation mode or deletion policy left out (None or "") stays as it was."""
    if jam.status not in (JamStatus.DRAFT, JamStatus.SCHEDULED):
        raise ValidationError("A jam that has started can no longer be edited here.")
    tag = _validated(
        title=title, hashtag=hashtag, starts_at=starts_at, duration_minutes=duration_minutes
    )
    if jam.status == JamStatus.SCHEDULED and starts_at <= timezone.now():
        raise ValidationError({"starts_at": "A scheduled jam cannot be moved into the past."})
    with transaction.atomic():
        _hashtag_reserve(
            hashtag=tag,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            exclude_jam_id=jam.pk,
            viewer=actor,
            time_zone=time_zone,
        )
        jam.title = title.strip()
        jam.description = description.strip()
        jam.hashtag = tag
        jam.hashtag_key = hashtag_key(tag)
        jam.starts_at = starts_at
        jam.duration_minutes = duration_minutes
        if moderation_mode:
            jam.moderation_mode = moderation_mode
        if deleted_author_policy:
            jam.deleted_author_policy = deleted_author_policy
        jam.full_clean()
        jam.save()
    return jam
