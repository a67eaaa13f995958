"""Public jam pages and the host's pages: create and edit a jam, its run-sheet of
questions, its people, and its schedule. Views parse input, check permission, call one
service and render; htmx requests get the partial that changed."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from jamhost.jams import lifecycle, people, run_sheet, services
from jamhost.jams.forms import InviteForm, JamForm, QuestionForm, add_service_errors
from jamhost.jams.models import Invite, Jam, JamStatus, Membership, Question, Role
from jamhost.jams.permissions import can_edit, can_moderate, can_see_run_sheet, can_view, jam_role
from jamhost.jams.reminders import rsvp_count
from jamhost.jams.selectors import (
    jam_list_for_user,
    jam_list_live,
    jam_list_past,
    jam_list_upcoming,
    jam_people,
    released_of,
)
from jamhost.links import site_root

TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# Public pages ---------------------------------------------------------------------------


def jam_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "jams/list.html",
        {
            "live": list(jam_list_live()),
            "upcoming": list(jam_list_upcoming()[:50]),
            "past": list(jam_list_past()[:50]),
        },
    )


def jam_detail(request: HttpRequest, slug: str) -> HttpResponse:
    jam = get_object_or_404(Jam.objects.select_related("host"), slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("draft")
    questions = list(jam.questions.all())
    run_sheet = can_see_run_sheet(user=request.user, jam=jam)
    panelists = [m.user for m in jam.memberships.filter(role=Role.PANELIST).select_related("user")]
    return render(
        request,
        "jams/detail.html",
        {
            "jam": jam,
            "questions": questions if run_sheet else released_of(questions),
            "run_sheet": run_sheet,
            "panelists": panelists,
            "role": jam_role(user=request.user, jam=jam),
            "can_edit": can_edit(user=request.user, jam=jam),
            "can_moderate": can_moderate(user=request.user, jam=jam),
            "coming": rsvp_count(jam=jam) if jam.status == JamStatus.SCHEDULED else None,
        },
    )


@login_required
def my_jams(request: HttpRequest) -> HttpResponse:
    entries = jam_list_for_user(user=request.user)
    return render(
        request,
        "jams/mine.html",
        {
            "current": [(j, r) for j, r in entries if not j.is_over],
            "past": [(j, r) for j, r in entries if j.is_over],
        },
    )


# Creating and editing a jam --------------------------------------------------------------


def _jam_for_host(request: HttpRequest, slug: str) -> Jam:
    jam = get_object_or_404(Jam.objects.select_related("host"), slug=slug)
    if not can_edit(user=request.user, jam=jam):
        raise PermissionDenied("Only the jam's host can change it.")
    return jam


@login_required
@require_http_methods(["GET", "POST"])
def jam_create(request: HttpRequest) -> HttpResponse:
    form = JamForm(data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            jam = services.jam_create(host=request.user, **_jam_fields(form))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"“{jam.title}” is saved as a draft. Add questions, then schedule it."
            )
            return redirect("jams:edit", slug=jam.slug)
    return render(request, "jams/form.html", {"form": form, "jam": None})


def _jam_fields(form: JamForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "title": data["title"],
        "hashtag": data["hashtag"],
        "starts_at": data["starts_at"],
        "duration_minutes": data["duration_minutes"],
        "description": data["description"],
        "moderation_mode": data["moderation_mode"],
        "deleted_author_policy": data["deleted_author_policy"],
        "time_zone": data.get("zone"),
    }


@login_required
@require_http_methods(["GET", "POST"])
def jam_edit(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam_for_host(request, slug)
    if request.method == "POST":
        form = JamForm(data=request.POST)
        if form.is_valid():
            try:
                services.jam_update(jam=jam, actor=request.user, **_jam_fields(form))
            except ValidationError as exc:
                jam.refresh_from_db()
                add_service_errors(form, exc)
            else:
                messages.success(request, "Saved.")
                return redirect("jams:edit", slug=jam.slug)
    else:
        form = JamForm(jam=jam)
    return render(request, "jams/manage.html", _manage_context(request, jam, jam_form=form))


def _manage_context(request: HttpRequest, jam: Jam, /, **parts: Any) -> dict[str, Any]:
    members, invites = jam_people(jam=jam)
    context: dict[str, Any] = {
        "jam": jam,
        "jam_form": None,
        "editable": jam.status in (JamStatus.DRAFT, JamStatus.SCHEDULED),
        "members": members,
        "invites": invites,
        "invite_form": InviteForm(),
        "site_url": site_root(request),
    }
    context.update(_questions_context(jam))
    context.update(parts)
    if context["jam_form"] is None:
        context["jam_form"] = JamForm(jam=jam)
    return context


@login_required
@require_POST
def jam_schedule(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam_for_host(request, slug)
    try:
        lifecycle.jam_schedule(jam=jam)
    except ValidationError as exc:
        messages.error(request, f"Not scheduled: {' '.join(exc.messages)}")
    else:
        messages.success(request, "Scheduled: the jam is on the public list and goes live on time.")
    return redirect("jams:edit", slug=jam.slug)


@login_required
@require_POST
def jam_unschedule(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam_for_host(request, slug)
    try:
        lifecycle.jam_unschedule(jam=jam)
    except ValidationError as exc:
        messages.error(request, f"Not unscheduled: {' '.join(exc.messages)}")
    else:
        messages.success(request, "Back to draft: the jam is off the public list.")
    return redirect("jams:edit", slug=jam.slug)


# The run-sheet ---------------------------------------------------------------------------


def _questions_context(jam: Jam, /, **parts: Any) -> dict[str, Any]:
    questions = list(jam.questions.order_by("number"))
    for index, question in enumerate(questions):
        question.can_move_up = run_sheet.question_can_swap(questions, index, -1)  # type: ignore[attr-defined]
        question.can_move_down = run_sheet.question_can_swap(questions, index, 1)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "jam": jam,
        "questions": questions,
        "question_form": QuestionForm(),
        "editing": None,
        "edit_form": None,
        "question_error": "",
        "questions_locked": jam.is_over,
    }
    context.update(parts)
    return context


def _questions_response(request: HttpRequest, jam: Jam, **parts: Any) -> HttpResponse:
    """The run-sheet partial for htmx; otherwise back to the host's page."""
    if _is_htmx(request):
        return render(request, "jams/_questions.html", _questions_context(jam, **parts))
    if not any(parts.get(k) for k in ("question_error", "editing")) and not (
        parts.get("question_form") and parts["question_form"].errors
    ):
        return redirect(reverse("jams:edit", kwargs={"slug": jam.slug}) + "#questions")
    return render(
        request,
        "jams/manage.html",
        _manage_context(request, jam, **_questions_context(jam, **parts)),
    )


def _question_for_host(request: HttpRequest, slug: str, pk: int) -> tuple[Jam, Question]:
    jam = _jam_for_host(request, slug)
    # Another jam's question id is simply not found here.
    question = get_object_or_404(Question, pk=pk, jam=jam)
    return jam, question


@login_required
@require_POST
def question_add(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam_for_host(request, slug)
    form = QuestionForm(data=request.POST)
    if form.is_valid():
        try:
            run_sheet.question_add(jam=jam, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            form = QuestionForm()
    return _questions_response(request, jam, question_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    jam, question = _question_for_host(request, slug, pk)
    if question.is_released:
        return _questions_response(
            request, jam, question_error=f"{question.label} is released and locked."
        )
    if request.method == "GET":
        form = QuestionForm(
            initial={"text": question.text, "offset_minutes": question.offset_minutes},
            prefix_id=f"q{question.pk}",
        )
        return _questions_response(request, jam, editing=question, edit_form=form)
    form = QuestionForm(data=request.POST, prefix_id=f"q{question.pk}")
    if form.is_valid():
        try:
            run_sheet.question_update(question=question, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _questions_response(request, jam)
    return _questions_response(request, jam, editing=question, edit_form=form)


@login_required
@require_POST
def question_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    jam, question = _question_for_host(request, slug, pk)
    try:
        run_sheet.question_delete(question=question)
    except ValidationError as exc:
        return _questions_response(request, jam, question_error=" ".join(exc.messages))
    return _questions_response(request, jam)


@login_required
@require_POST
def question_move(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    jam, question = _question_for_host(request, slug, pk)
    order = list(jam.questions.order_by("number").values_list("pk", flat=True))
    index = order.index(question.pk)
    direction = request.POST.get("direction")
    target = index - 1 if direction == "up" else index + 1 if direction == "down" else None
    if target is None or not 0 <= target < len(order):
        return _questions_response(
            request, jam, question_error=f"{question.label} cannot move that way."
        )
    order[index], order[target] = order[target], order[index]
    return _reorder(request, jam, order)


@login_required
@require_POST
def question_reorder(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam_for_host(request, slug)
    raw = request.POST.getlist("order")
    if len(raw) == 1 and "," in raw[0]:
        raw = raw[0].split(",")
    try:
        order = [int(value) for value in raw[:1000]]
    except ValueError:
        return _questions_response(
            request, jam, question_error="The new order must list the questions by their ids."
        )
    return _reorder(request, jam, order)


def _reorder(request: HttpRequest, jam: Jam, order: list[int]) -> HttpResponse:
    try:
        run_sheet.question_reorder(jam=jam, ordered_ids=order)
    except ValidationError as exc:
        return _questions_response(request, jam, question_error=" ".join(exc.messages))
    return _questions_response(request, jam)


# People: invites and members ------------------------------------------------------------


def _people_response(request: HttpRequest, jam: Jam, **parts: Any) -> HttpResponse:
    members, invites = jam_people(jam=jam)
    context: dict[str, Any] = {
        "jam": jam,
        "members": members,
        "invites": invites,
        "invite_form": InviteForm(),
        "people_error": "",
        "site_url": site_root(request),
        **parts,
    }
    if _is_htmx(request):
        return render(request, "jams/_people.html", context)
    if not context["people_error"] and not context["invite_form"].errors:
        if context.get("new_invite"):
            messages.success(request, "Invite link made: copy it from the list below.")
        return redirect(reverse("jams:edit", kwargs={"slug": jam.slug}) + "#people")
    return render(request, "jams/manage.html", _manage_context(request, jam, **context))


@login_required
@require_POST
def invite_create(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam_for_host(request, slug)
    form = InviteForm(data=request.POST)
    invite = None
    if form.is_valid():
        try:
            invite = people.invite_create(jam=jam, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            # Refusals here are about the jam (it is over), not about a field.
            return _people_response(request, jam, people_error=" ".join(exc.messages))
        form = InviteForm()
    return _people_response(request, jam, invite_form=form, new_invite=invite)


@login_required
@require_POST
def member_remove(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    jam = _jam_for_host(request, slug)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), jam=jam, user_id=user_id
    )
    try:
        people.membership_remove(jam=jam, user_id=membership.user_id, actor=request.user)
    except ValidationError as exc:
        return _people_response(request, jam, people_error=" ".join(exc.messages))
    return _people_response(
        request, jam, people_notice=f"@{membership.user.get_username()} is no longer in the jam."
    )


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the invite (to anyone holding the link: the jam, its host, the role and
    the time, with sign-up and log-in for people not signed in); POST accepts it.
    Accepting on GET would let link previews in chat apps use up a single-use link."""
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    # Tokens are URL-safe base64; anything else (a NUL byte, say, which PostgreSQL would
    # refuse to compare) is simply not an invite.
    invite = (
        Invite.objects.select_related("jam", "jam__host", "accepted_by").filter(token=token).first()
        if TOKEN.fullmatch(token)
        else None
    )
    if invite is None:
        return render(
            request,
            "jams/invite.html",
            {"invite": None, "error": "This invite link is not valid. Ask the host for a new one."},
            status=404,
        )
    error = ""
    if request.method == "POST":
        try:
            people.invite_accept(token=invite.token, user=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request,
                f"You are now a {invite.get_role_display().lower()} of “{invite.jam.title}”.",
            )
            return redirect(invite.jam.get_absolute_url())
    return render(
        request,
        "jams/invite.html",
        {"invite": invite, "error": error},
        status=400 if error else 200,
    )
