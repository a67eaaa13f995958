"""Pages for answers drafted ahead: the panelist's drafts, the room's "ready to send"
panel, and the host's view of who has drafted for which question."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_edit, can_view, jam_role
from jamhost.posts.drafts import (
    DRAFTING_ROLES,
    draft_delete,
    draft_save,
    draft_send,
    drafts_flagged,
    drafts_of_author,
    drafts_overview,
    drafts_ready,
)
from jamhost.posts.models import AnswerDraft

_ROW_ID = re.compile(r"[0-9]{1,18}")


def _jam(request: HttpRequest, slug: str) -> Jam:
    jam = get_object_or_404(Jam.objects.select_related("host"), slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("draft")
    return jam


def _drafting(request: HttpRequest, jam: Jam) -> None:
    if jam_role(user=request.user, jam=jam) not in DRAFTING_ROLES:
        raise PermissionDenied(
            "Only the jam's panelists and host can draft answers. "
            "Log in with the account that was invited as a panelist."
        )


def _row_id(raw: str) -> bool:
    """A database id as a form sends it: ASCII digits only (str.isdigit() takes "⁰⁴⁵"),
    at most 18 of them, so a longer number is "not found", not an overflow."""
    return bool(_ROW_ID.fullmatch(raw))


def _errors(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def _page(request: HttpRequest, jam: Jam, **extra: object) -> HttpResponse:
    rows = drafts_of_author(jam=jam, author=request.user)
    questions = list(jam.questions.order_by("number"))
    by_question = {q.pk: [r for r in rows if r.draft.question_id == q.pk] for q in questions}
    return render(
        request,
        "posts/drafts.html",
        {
            "jam": jam,
            "sections": [(q, by_question[q.pk]) for q in questions],
            "flagged": [r for r in rows if r.problem and not r.draft.is_sent],
            **extra,
        },
        status=400 if extra.get("errors") else 200,
    )


def drafts(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the panelist's drafts per question. POST: save a new or changed draft."""
    jam = _jam(request, slug)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    _drafting(request, jam)
    if request.method != "POST":
        return _page(request, jam)
    raw_question = request.POST.get("question", "")
    question = jam.questions.filter(pk=raw_question).first() if _row_id(raw_question) else None
    if question is None:
        return _page(request, jam, errors=["Pick a question of this jam's run-sheet."])
    raw_draft = request.POST.get("draft", "")
    draft = None
    if raw_draft:
        draft = AnswerDraft.objects.filter(
            pk=raw_draft if _row_id(raw_draft) else 0, question=question
        ).first()
        if draft is None:
            return _page(request, jam, errors=["This draft no longer exists."])
    body = request.POST.get("body", "")
    try:
        draft_save(
            author=request.user,
            question=question,
            body=body,
            send_on_release=request.POST.get("send_on_release") == "on",
            draft=draft,
        )
    except ValidationError as exc:
        return _page(
            request,
            jam,
            errors=_errors(exc),
            error_draft=draft.pk if draft else None,
            error_question=question.pk,
            body=body,
        )
    messages.success(request, f"Draft for {question.label} saved.")
    return redirect(reverse("posts:drafts", args=[jam.slug]) + f"#q{question.number}")


def _back(request: HttpRequest, jam: Jam) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("posts:drafts", args=[jam.slug])


def _own_draft(request: HttpRequest, jam: Jam, draft_id: int) -> AnswerDraft:
    draft = AnswerDraft.objects.filter(pk=draft_id, question__jam=jam).select_related(
        "question__jam", "post"
    )
    found = draft.first()
    if found is None or found.author_id != request.user.pk:
        raise Http404("no such draft")
    return found


@require_POST
def draft_send_view(request: HttpRequest, slug: str, draft_id: int) -> HttpResponse:
    jam = _jam(request, slug)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("posts:drafts", args=[jam.slug]))
    draft = _own_draft(request, jam, draft_id)
    try:
        post = draft_send(author=request.user, draft=draft)
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        note = " It waits for a moderator." if post.status == "pending" else ""
        messages.success(request, f"Your answer to {draft.question.label} is posted.{note}")
    return redirect(_back(request, jam))


@require_POST
def draft_delete_view(request: HttpRequest, slug: str, draft_id: int) -> HttpResponse:
    jam = _jam(request, slug)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("posts:drafts", args=[jam.slug]))
    draft = _own_draft(request, jam, draft_id)
    try:
        draft_delete(author=request.user, draft=draft)
    except ValidationError as exc:
        messages.error(request, " ".join(_errors(exc)))
    else:
        messages.success(request, f"Draft for {draft.question.label} deleted.")
    return redirect(_back(request, jam))


@require_GET
def drafts_ready_panel(request: HttpRequest, slug: str) -> HttpResponse:
    """The room's panel (polled by htmx): the panelist's drafts whose question is out."""
    jam = _jam(request, slug)
    if jam_role(user=request.user, jam=jam) not in DRAFTING_ROLES:
        return HttpResponse("")
    rows = drafts_of_author(jam=jam, author=request.user)
    return render(
        request,
        "posts/_drafts_ready.html",
        {
            "jam": jam,
            "ready": drafts_ready(jam=jam, author=request.user, rows=rows),
            "flagged": drafts_flagged(rows),
        },
    )


@require_GET
def drafts_overview_view(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam(request, slug)
    if not can_edit(user=request.user, jam=jam):
        raise PermissionDenied("Only the jam's host can see who has drafted answers.")
    return render(
        request, "posts/drafts_overview.html", {"jam": jam, "overview": drafts_overview(jam=jam)}
    )
