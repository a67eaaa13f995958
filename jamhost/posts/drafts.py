"""Answers drafted ahead: a panelist writes answers to run-sheet questions before the jam,
then sends each with one tap once its question is out, or lets it go out on release.

A draft becomes a post only through post_send, the compose box's own path (the networks'
limits, moderation, publishing), with the client_key "draft:<id>": one post per draft
however many sweeps or taps send it. Each send writes one audit entry (key "draft:<id>").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jamhost import metrics
from jamhost.core.text_rules import TextRule
from jamhost.jams.answers import answer_number
from jamhost.jams.models import Jam, JamStatus, Question, Role
from jamhost.jams.permissions import jam_role
from jamhost.posts.compose import (
    Composed,
    characters_refused,
    compose_text,
    is_blank,
    text_rules_for,
)
from jamhost.posts.models import AnswerDraft, AuditEntry, ModerationAction, Post
from jamhost.posts.services import MAX_BODY_CHARS, post_send

log = logging.getLogger(__name__)

DRAFTING_ROLES = (Role.HOST, Role.PANELIST)


def draft_composed(
    draft: AnswerDraft, *, jam: Jam | None = None, rules: Sequence[TextRule] | None = None
) -> Composed:
    """The text the draft would go out as now ("A3: … #tag"), counted by the rules its
    author's posts are held to (`rules`, when the caller has them: text_rules_for), with
    the jam's hashtag and the question's number as they are at this moment."""
    jam = jam or draft.question.jam
    if rules is None:
        rules = text_rules_for(jam=jam, user=draft.author)
    return compose_text(
        body=draft.body,
        hashtag=jam.hashtag,
        question_number=draft.question.number,
        rules=rules,
    )


def draft_problem(
    draft: AnswerDraft,
    *,
    jam: Jam | None = None,
    rules: Sequence[TextRule] | None = None,
    composed: Composed | None = None,
) -> str:
    """Why the draft cannot go out as it stands (too long: the hashtag or the question's
    number changed since it was written), worded for its panelist; "" when it can."""
    composed = composed or draft_composed(draft, jam=jam, rules=rules)
    if composed.fits:
        return ""
    jam = jam or draft.question.jam
    # Over every limit: the network with the most room says the least to cut.
    binding = max(composed.counts, key=lambda counted: counted.remaining)
    return (
        f"Too long now: with “A{draft.question.number}: ” and #{jam.hashtag} it is "
        f"{binding.length} {binding.rule.unit} as {binding.rule.label} counts them, over "
        f"{binding.rule.limit}. Shorten it by {-binding.remaining} before "
        f"{draft.question.label} is released."
    )


def _check_author(*, jam: Jam, author: Any) -> None:
    if jam_role(user=author, jam=jam) not in DRAFTING_ROLES:
        raise PermissionDenied("Only the jam's panelists and host can draft answers.")


def _clean_body(body: str, question: Question, jam: Jam, author: Any) -> str:
    if "\x00" in body:
        raise ValidationError({"body": "Your draft contains a NUL character. Remove it."})
    rules = text_rules_for(jam=jam, user=author)
    refused = characters_refused(rules, body, "draft")
    if refused:
        raise ValidationError({"body": refused})
    if len(body) > MAX_BODY_CHARS or is_blank(body):
        raise ValidationError(
            {"body": "Write the answer (it must fit the limit) before saving the draft."}
        )
    body = body.strip()
    written = answer_number(body)
    if written is not None and written != question.number:
        raise ValidationError(
            {
                "body": f"This draft starts with “A{written}” but answers {question.label}. "
                f"Remove the prefix: jamhost adds “A{question.number}: ” itself."
            }
        )
    composed = compose_text(
        body=body, hashtag=jam.hashtag, question_number=question.number, rules=rules
    )
    refusal = composed.refusal("answer")
    if refusal:
        raise ValidationError(
            {"body": f"With “A{question.number}: ” and #{jam.hashtag}: {refusal}"}
        )
    return body


def draft_save(
    *,
    author: Any,
    question: Question,
    body: str,
    send_on_release: bool = False,
    draft: AnswerDraft | None = None,
) -> AnswerDraft:
    """Write a new draft for `question`, or change `draft`. Refused (ValidationError) for a
    question already released (a new draft), a draft already sent, or a body that does
    not fit X's limit with its prefix and the jam's hashtag; PermissionDenied for anyone
    but the jam's panelists and host."""
    jam = question.jam
    _check_author(jam=jam, author=author)
    if jam.is_over:
        raise ValidationError("This jam has ended; its drafts can no longer be sent.")
    clean = _clean_body(body, question, jam, author)
    with transaction.atomic():
        if draft is None:
            if question.is_released:
                raise ValidationError(
                    f"{question.label} is already out: answer it from the live room."
                )
            return AnswerDraft.objects.create(
                question=question, author=author, body=clean, send_on_release=send_on_release
            )
        draft = AnswerDraft.objects.select_for_update().get(pk=draft.pk)
        if draft.author_id != author.pk:
            raise PermissionDenied("This draft is someone else's.")
        if draft.is_sent:
            raise ValidationError("This draft has been sent; it is a post now.")
        draft.body, draft.send_on_release, draft.send_error = clean, send_on_release, ""
        draft.save(update_fields=["body", "send_on_release", "send_error", "updated_at"])
        return draft


def draft_delete(*, author: Any, draft: AnswerDraft) -> None:
    """Remove an unsent draft of one's own (a sent one is a post: moderate that)."""
    with transaction.atomic():
        draft = AnswerDraft.objects.select_for_update().get(pk=draft.pk)
        if draft.author_id != author.pk:
            raise PermissionDenied("This draft is someone else's.")
        if draft.is_sent:
            raise ValidationError("This draft has been sent; it is a post now.")
        draft.delete()


def draft_send(*, author: Any, draft: AnswerDraft) -> Post:
    """Send the draft as its author's answer through the compose path (post_send): the
    post is checked, moderated, stored and queued for X as a typed one is. Idempotent:
    a draft sent already returns its post, and two sends at once store one post and one
    audit entry. Raises ValidationError (question not out, jam not live, too long) or
    PermissionDenied (not the draft's author, no longer a panelist)."""
    if draft.author_id != author.pk:
        raise PermissionDenied("This draft is someone else's.")
    if draft.post_id is not None:
        return draft.post  # type: ignore[return-value]
    question = draft.question
    jam = question.jam
    _check_author(jam=jam, author=author)
    if not question.is_released:
        raise ValidationError(f"{question.label} has not been released yet; send it once it is.")
    rules = text_rules_for(jam=jam, user=author)
    problem = draft_problem(draft, jam=jam, rules=rules)
    if problem:
        raise ValidationError(problem)
    sent = post_send(
        jam=jam,
        user=author,
        body=draft.body,
        question_number=question.number,
        client_key=draft.client_key,
        rules=rules,
    )
    with transaction.atomic():
        locked = AnswerDraft.objects.select_for_update().get(pk=draft.pk)
        if locked.post_id is None:
            locked.post, locked.sent_at, locked.send_error = sent.post, timezone.now(), ""
            locked.save(update_fields=["post", "sent_at", "send_error", "updated_at"])
        try:
            with transaction.atomic():
                AuditEntry.objects.create(
                    jam_id=jam.pk,
                    post=sent.post,
                    author_key=sent.post.author_key,
                    author_handle=sent.post.author_handle,
                    actor=author,
                    actor_handle=author.get_username(),
                    action=ModerationAction.DRAFT_SENT,
                    before={},
                    after={"question": question.label, "status": sent.post.status},
                    reason="sent on release" if draft.send_on_release else "",
                    key=draft.client_key,
                    created_at=timezone.now(),
                )
        except IntegrityError:
            pass  # another send of this draft wrote it
    draft.post, draft.sent_at = sent.post, locked.sent_at
    return sent.post


@dataclass
class DraftsSweep:
    sent: list[int]
    refused: list[int]


@metrics.timed_sweep("drafts")
def drafts_send_released(*, now: datetime | None = None) -> DraftsSweep:
    """Send every draft marked "send on release" whose question is out in a live jam.
    Idempotent (see draft_send). A draft that cannot go out keeps its reason, shown to
    its panelist, and is not tried again until they edit it."""
    result = DraftsSweep(sent=[], refused=[])
    due = (
        AnswerDraft.objects.filter(
            send_on_release=True,
            sent_at__isnull=True,
            send_error="",
            question__released_at__isnull=False,
            question__jam__status=JamStatus.LIVE,
        )
        .select_related("question__jam", "author")
        .order_by("question__released_at", "created_at", "id")
    )
    for draft in due:
        try:
            draft_send(author=draft.author, draft=draft)
        except (ValidationError, PermissionDenied) as exc:
            reason = " ".join(getattr(exc, "messages", None) or [str(exc)])
            AnswerDraft.objects.filter(pk=draft.pk, sent_at__isnull=True).update(
                send_error=reason[:300]
            )
            log.info("draft %s not sent on release: %s", draft.pk, reason)
            result.refused.append(draft.pk)
            continue
        result.sent.append(draft.pk)
    return result


# Reads -------------------------------------------------------------------------------


@dataclass
class DraftRow:
    draft: AnswerDraft
    composed: Composed
    problem: str


def drafts_of_author(*, jam: Jam, author: Any) -> list[DraftRow]:
    """The author's drafts in the jam, in run-sheet order, each with its text as it would
    go out now and what stops it going out."""
    drafts = AnswerDraft.objects.filter(question__jam=jam, author_id=author.pk).select_related(
        "question", "post"
    )
    rules = text_rules_for(jam=jam, user=author)
    rows = []
    for draft in drafts:
        composed = draft_composed(draft, jam=jam, rules=rules)
        problem = draft_problem(draft, jam=jam, composed=composed)
        rows.append(DraftRow(draft=draft, composed=composed, problem=problem))
    return rows


def drafts_ready(*, jam: Jam, author: Any, rows: list[DraftRow] | None = None) -> list[DraftRow]:
    """The author's unsent drafts whose question is out: ready to send with one tap."""
    rows = drafts_of_author(jam=jam, author=author) if rows is None else rows
    return [r for r in rows if not r.draft.is_sent and r.draft.question.is_released]


def drafts_flagged(rows: list[DraftRow]) -> list[DraftRow]:
    """Unsent drafts that no longer fit (the hashtag or question number changed), whose
    question is not out yet: flagged to their panelist before the release."""
    return [
        r for r in rows if r.problem and not r.draft.is_sent and not r.draft.question.is_released
    ]


@dataclass
class QuestionDrafts:
    question: Question
    # (display name, handle, drafts written, drafts sent, drafts going out on release)
    people: list[tuple[str, str, int, int, int]]


def drafts_overview(*, jam: Jam) -> list[QuestionDrafts]:
    """For the host: who has drafted for which question, in one query."""
    rows: dict[int, dict[int, list[Any]]] = {}
    drafts = AnswerDraft.objects.filter(question__jam=jam).select_related("author")
    for d in drafts.order_by("author__username"):
        person = rows.setdefault(d.question_id, {}).setdefault(
            d.author_id, [d.author.get_full_name(), d.author.get_username(), 0, 0, 0]
        )
        person[2] += 1
        person[3] += int(d.is_sent)
        person[4] += int(d.send_on_release and not d.is_sent)
    return [
        QuestionDrafts(question=q, people=[tuple(p) for p in rows.get(q.pk, {}).values()])
        for q in jam.questions.order_by("number")
    ]
