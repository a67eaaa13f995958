"""A jam's run-sheet: its questions, added, edited, removed, reordered and released."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from jamhost.core import events, hooks
from jamhost.jams.lifecycle import jam_stamp_header
from jamhost.jams.locks import jam_lock
from jamhost.jams.models import (
    Jam,
    JamStatus,
    Question,
)
from jamhost.jams.selectors import question_next, released_filter


def _validate_question(text: str, offset_minutes: int, jam: Jam) -> str:
    text = " ".join(text.split())
    if not text:
        raise ValidationError({"text": "Write the question."})
    # A character a network the jam runs on refuses (X: U+FEFF and the like); the rules
    # are nobody's in particular, as the question is posted by the jam's own account.
    for rule in hooks.collect_text_rules(jam, None):
        refused = rule.characters_refused(text, "question")
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
        jam_stamp_header(jam)


def _question_locked(question: Question) -> tuple[Jam, Question]:
    """The question's jam, then the question, locked in that order (the order
    question_release and post_insert take them)."""
    jam = jam_lock(question.jam)
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
        jam = jam_lock(jam)
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


def question_keeps_place(question: Question) -> bool:
    """A released question keeps its place in the run-sheet: nothing moves past it. The
    one rule question_reorder enforces and the run-sheet's move buttons follow."""
    return question.is_released


def question_can_swap(questions: list[Question], index: int, step: int) -> bool:
    """Whether the question at `index` (of the run-sheet in order) may swap with the one
    `step` away (-1: up, +1: down)."""
    target = index + step
    return 0 <= target < len(questions) and not (
        question_keeps_place(questions[index]) or question_keeps_place(questions[target])
    )


def question_reorder(*, jam: Jam, ordered_ids: list[int]) -> list[Question]:
    """Put the jam's questions in this order. Released questions keep their numbers.

    Reordering moves questions, not times: each position keeps the release offset it had,
    and a question moved there takes that offset, so numbers and release times stay in
    step (the sweep releases by time, the host's "release next" by number).
    """
    with transaction.atomic():
        jam = jam_lock(jam)
        if jam.is_over:
            raise ValidationError("The jam is over; its questions can no longer change.")
        questions = list(jam.questions.order_by("number"))
        if sorted(ordered_ids) != sorted(q.pk for q in questions):
            raise ValidationError("The new order must list each of the jam's questions once.")
        by_pk = {q.pk: q for q in questions}
        for position, (old, pk) in enumerate(zip(questions, ordered_ids, strict=True), 1):
            moved = by_pk[pk]
            if (question_keeps_place(old) or question_keeps_place(moved)) and old.pk != pk:
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
    now = now or timezone.now()
    with transaction.atomic():
        jam = jam_lock(question.jam)
        question = Question.objects.select_for_update().get(pk=question.pk)
        if question.is_released:
            return question
        if jam.status != JamStatus.LIVE:
            raise ValidationError("Questions are released only while the jam is live.")
        question.released_at = now
        question.save(update_fields=["released_at"])
        jam.current_question = question
        jam.save(update_fields=["current_question", "updated_at"])
        # The posts app inserts the host's post "Qn: … #tag" in this transaction.
        events.send(events.QuestionReleased(jam=jam, question=question, now=now))
    return question


def question_release_next(*, jam: Jam, now: datetime | None = None) -> Question:
    """Release the question the live header counts down to (selectors.question_next)."""
    nxt = question_next(jam.questions.filter(released_filter(released=False)))
    if nxt is None:
        raise ValidationError("Every question has been released.")
    return question_release(question=nxt, now=now)
