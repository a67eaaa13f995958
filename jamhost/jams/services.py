"""Writes to jams, their questions and memberships.

Every function validates and raises ValidationError with a message a person can act on,
writes inside transaction.atomic(), and tells live screens through jamhost.live.publish
after commit.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.text import slugify

from jamhost.jams.counters import jam_next_rev
from jamhost.jams.hashtags import (
    hashtag_clean,
    hashtag_key,
    reservation_lock_id,
    reservation_window,
)
from jamhost.jams.models import (
    DeletedAuthorPolicy,
    Invite,
    Jam,
    JamStatus,
    Membership,
    ModerationMode,
    Question,
    Role,
)
from jamhost.jams.selectors import question_next
from jamhost.jams.x_text import x_refused_message
from jamhost.live.publish import jam_changed_on_commit

TRANSITIONS: dict[str, set[str]] = {
    JamStatus.DRAFT: {JamStatus.SCHEDULED},
    JamStatus.SCHEDULED: {JamStatus.DRAFT, JamStatus.LIVE},
    JamStatus.LIVE: {JamStatus.ENDED},
    JamStatus.ENDED: {JamStatus.ARCHIVED},
    JamStatus.ARCHIVED: set(),
}
MAX_DURATION_MINUTES = 24 * 60
MAX_START_DISTANCE = timedelta(days=50 * 365)


def _check_transition(jam: Jam, target: str) -> None:
    if target not in TRANSITIONS[jam.status]:
        status = jam.get_status_display().lower()
        article = "An" if status[:1] in "aeiou" else "A"
        raise ValidationError(
            f"{article} {status} jam cannot become {target}.",
            code="invalid_transition",
        )


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
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = ["Give the jam a title."]
    try:
        tag = hashtag_clean(hashtag)
    except ValidationError as exc:
        errors["hashtag"] = exc.messages
        tag = ""
    if errors:
        raise ValidationError(errors)
    _validate_times(starts_at, duration_minutes)
    with transaction.atomic():
        try:
            hashtag_check_available(
                hashtag=tag,
                starts_at=starts_at,
                duration_minutes=duration_minutes,
                viewer=host,
                time_zone=time_zone,
            )
        except ValidationError as exc:
            raise ValidationError({"hashtag": exc.messages}) from exc
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
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = ["Give the jam a title."]
    try:
        tag = hashtag_clean(hashtag)
    except ValidationError as exc:
        errors["hashtag"] = exc.messages
    if errors:
        raise ValidationError(errors)
    _validate_times(starts_at, duration_minutes)
    if jam.status == JamStatus.SCHEDULED and starts_at <= timezone.now():
        raise ValidationError({"starts_at": "A scheduled jam cannot be moved into the past."})
    with transaction.atomic():
        try:
            hashtag_check_available(
                hashtag=tag,
                starts_at=starts_at,
                duration_minutes=duration_minutes,
                exclude_jam_id=jam.pk,
                viewer=actor,
                time_zone=time_zone,
            )
        except ValidationError as exc:
            raise ValidationError({"hashtag": exc.messages}) from exc
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


def _locked(jam: Jam) -> Jam:
    return (
        Jam.objects.select_for_update(of=("self",))
        .select_related("current_question")
        .get(pk=jam.pk)
    )


def _stamp_header(jam: Jam) -> None:
    """Take a rev for a change to the jam's header (status, current question, end)."""
    _, rev = jam_next_rev(jam_id=jam.pk, header_changed=True)
    jam.rev = jam.header_rev = rev
    jam_changed_on_commit(jam)


def jam_schedule(*, jam: Jam, now: datetime | None = None) -> Jam:
    """Draft -> scheduled. Refused when the jam has no questions or starts in the past."""
    now = now or timezone.now()
    with transaction.atomic():
        jam = _locked(jam)
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
        jam = _locked(jam)
        _check_transition(jam, JamStatus.DRAFT)
        jam.status = JamStatus.DRAFT
        jam.save(update_fields=["status", "updated_at"])
    return jam


def jam_go_live(*, jam: Jam, now: datetime | None = None) -> Jam:
    """Scheduled -> live. Idempotent: a live jam is returned unchanged."""
    now = now or timezone.now()
    with transaction.atomic():
        jam = _locked(jam)
        if jam.status == JamStatus.LIVE:
            return jam
        _check_transition(jam, JamStatus.LIVE)
        jam.status = JamStatus.LIVE
        jam.went_live_at = now
        _stamp_header(jam)
        jam.save(update_fields=["status", "went_live_at", "updated_at"])
    return jam


def jam_end(*, jam: Jam, now: datetime | None = None) -> Jam:
    """Live -> ended (on time, or early by the host). Idempotent for an ended jam."""
    now = now or timezone.now()
    with transaction.atomic():
        jam = _locked(jam)
        if jam.status in (JamStatus.ENDED, JamStatus.ARCHIVED):
            return jam
        _check_transition(jam, JamStatus.ENDED)
        jam.status = JamStatus.ENDED
        jam.ended_at = now
        _stamp_header(jam)
        jam.save(update_fields=["status", "ended_at", "updated_at"])
        transaction.on_commit(lambda: _archive_enqueue(jam.pk))
    return jam


def _archive_enqueue(jam_id: int) -> None:
    from jamhost.transcripts.tasks import archive_jam

    archive_jam.delay(jam_id)


def jam_extend(*, jam: Jam, minutes: int, time_zone: tzinfo | None = None) -> Jam:
    """Add minutes to a live or scheduled jam. Refused when the longer jam would run into
    another jam's reservation of the same hashtag."""
    if not 1 <= minutes <= 240:
        raise ValidationError("Extend by 1 to 240 minutes.")
    with transaction.atomic():
        jam = _locked(jam)
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
        _stamp_header(jam)
        jam.save(update_fields=["duration_minutes", "updated_at"])
    return jam


def jam_set_moderation_mode(*, jam: Jam, mode: str) -> Jam:
    if mode not in ModerationMode.values:
        raise ValidationError("Choose post-moderation or pre-moderation.")
    with transaction.atomic():
        jam = _locked(jam)
        jam.moderation_mode = mode
        _stamp_header(jam)
        jam.save(update_fields=["moderation_mode", "updated_at"])
    return jam


# Questions ---------------------------------------------------------------------------


def _validate_question(text: str, offset_minutes: int, jam: Jam) -> str:
    text = " ".join(text.split())
    if not text:
        raise ValidationError({"text": "Write the question."})
    refused = x_refused_message(text, "question")
    if refused:
        raise ValidationError({"text": refused})
    if len(text) > 250:
        raise ValidationError(
            {"text": f"Keep a question to 250 characters (this one has {len(text)})."}
        )
    if offset_minutes < 0 or offset_minutes >= jam.duration_minutes:
        raise ValidationError(
            {
                "offset_minutes": "The release time must be within the jam: 0 to "
                f"{jam.duration_minutes - 1} minutes after the start."
            }
        )
    return text


def _run_sheet_changed(jam: Jam) -> None:
    """A live jam's header counts down to its next question, so a change to the run-sheet
    while it is live is a change to the header: open pages get it on the live path, and
    fresh loads render it anew (headers are cached by their rev). `jam` is locked."""
    if jam.status == JamStatus.LIVE:
        _stamp_header(jam)


def _question_locked(question: Question) -> tuple[Jam, Question]:
    """The question's jam, then the question, locked in that order (the order
    question_release and post_insert take them)."""
    jam = _locked(question.jam)
    question = Question.objects.select_for_update().get(pk=question.pk)
    question.jam = jam
    return jam, question


def question_add(*, jam: Jam, text: str, offset_minutes: int) -> Question:
    """Add a question at the end of the run-sheet. On a live jam it is released by the
    sweep at its time like the others, and screens count down to it at once."""
    if jam.is_over:
        raise ValidationError("The jam is over; its questions can no longer change.")
    text = _validate_question(text, offset_minutes, jam)
    with transaction.atomic():
        jam = _locked(jam)
        if jam.is_over:
            raise ValidationError("The jam is over; its questions can no longer change.")
        number = (jam.questions.aggregate(n=Max("number"))["n"] or 0) + 1
        question = Question.objects.create(
            jam=jam, number=number, text=text, offset_minutes=offset_minutes
        )
        _run_sheet_changed(jam)
    return question


def question_update(*, question: Question, text: str, offset_minutes: int) -> Question:
    """Edit an unreleased question. A released question is never edited silently."""
    with transaction.atomic():
        jam, question = _question_locked(question)
        if jam.is_over:
            raise ValidationError("The jam is over; its questions can no longer change.")
        if question.is_released:
            raise ValidationError(
                f"Q{question.number} was released at {question.released_at:%H:%M} UTC and "
                "people have answered it; it can no longer be edited."
            )
        question.text = _validate_question(text, offset_minutes, jam)
        question.offset_minutes = offset_minutes
        question.save(update_fields=["text", "offset_minutes"])
        _run_sheet_changed(jam)
    return question


def question_delete(*, question: Question) -> None:
    with transaction.atomic():
        jam, question = _question_locked(question)
        if jam.is_over:
            raise ValidationError("The jam is over; its questions can no longer change.")
        if question.is_released:
            raise ValidationError(f"Q{question.number} is released and cannot be removed.")
        question.delete()
        _renumber(jam, [q.pk for q in jam.questions.order_by("number")])
        _run_sheet_changed(jam)


def _renumber(jam: Jam, ordered_ids: list[int]) -> None:
    questions = {q.pk: q for q in jam.questions.all()}
    # Two passes so the unique (jam, number) constraint never sees a duplicate.
    offset = 10_000
    for index, pk in enumerate(ordered_ids, start=1):
        Question.objects.filter(pk=pk).update(number=offset + index)
    for index, pk in enumerate(ordered_ids, start=1):
        questions[pk].number = index
        Question.objects.filter(pk=pk).update(number=index)


def question_reorder(*, jam: Jam, ordered_ids: list[int]) -> list[Question]:
    """Put the jam's questions in this order. Released questions keep their numbers.

    Reordering moves questions, not times: each position keeps the release offset it had,
    and a question moved there takes that offset, so numbers and release times stay in
    step (the sweep releases by time, the host's "release next" by number).
    """
    with transaction.atomic():
        jam = _locked(jam)
        if jam.is_over:
            raise ValidationError("The jam is over; its questions can no longer change.")
        questions = list(jam.questions.order_by("number"))
        if sorted(ordered_ids) != sorted(q.pk for q in questions):
            raise ValidationError("The new order must list each of the jam's questions once.")
        by_pk = {q.pk: q for q in questions}
        for position, (old, pk) in enumerate(zip(questions, ordered_ids, strict=True), 1):
            moved = by_pk[pk]
            if (old.is_released or moved.is_released) and old.pk != pk:
                released = old if old.is_released else moved
                raise ValidationError(
                    f"{released.label} is released and keeps its place; move only the "
                    f"questions not yet released (position {position} is fixed)."
                )
        slots = [q.offset_minutes for q in questions]
        _renumber(jam, ordered_ids)
        for pk, offset in zip(ordered_ids, slots, strict=True):
            if by_pk[pk].offset_minutes != offset:
                Question.objects.filter(pk=pk).update(offset_minutes=offset)
        _run_sheet_changed(jam)
        return list(jam.questions.order_by("number"))


def question_release(*, question: Question, now: datetime | None = None) -> Question:
    """Release a question: a host post "Qn: … #tag" and the jam's current question.

    Idempotent: a question already released is returned unchanged, so two sweeps at once
    release it once (the jam row lock serialises them).
    """
    from jamhost.networks.publishing import network_status_for, publication_enqueue
    from jamhost.posts.models import AuthorRole, Kind
    from jamhost.posts.services import post_insert

    now = now or timezone.now()
    with transaction.atomic():
        jam = _locked(question.jam)
        question = Question.objects.select_for_update().get(pk=question.pk)
        if question.is_released:
            return question
        if jam.status != JamStatus.LIVE:
            raise ValidationError("Questions are released only while the jam is live.")
        question.released_at = now
        question.save(update_fields=["released_at"])
        jam.current_question = question
        jam.save(update_fields=["current_question", "updated_at"])
        host = jam.host
        post = post_insert(
            jam=jam,
            kind=Kind.QUESTION,
            author=host,
            author_role=AuthorRole.HOST,
            body=question.text,
            text=f"{question.label}: {question.text} {jam.tag}",
            question=question,
            now=now,
            header_changed=True,
            network_status=network_status_for(user=host),
        )
        publication_enqueue(post=post)  # from the host's X account, after commit
    return question


def question_release_next(*, jam: Jam, now: datetime | None = None) -> Question:
    """Release the question the live header counts down to (selectors.question_next)."""
    nxt = question_next(jam.questions.filter(released_at__isnull=True))
    if nxt is None:
        raise ValidationError("Every question has been released.")
    return question_release(question=nxt, now=now)


# Invites and memberships ----------------------------------------------------------------


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
    from jamhost.live.publish import user_roles_changed_on_commit

    user_roles_changed_on_commit(jam_id=jam.pk, user_id=user_id)
