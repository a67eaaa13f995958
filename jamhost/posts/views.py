"""The moderation console (page, panels, the no-JavaScript action form) and the big screen."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from jamhost.jams.models import Jam, ModerationMode, Role
from jamhost.jams.permissions import can_edit, can_moderate, can_view, jam_role
from jamhost.jams.selectors import released_of
from jamhost.posts.actions import action_apply, notice_html
from jamhost.posts.console_selectors import (
    audit_for_jam,
    panelist_answers,
    people_in_jam,
    posts_for_screen,
)
from jamhost.posts.render import MODERATOR, render_header
from jamhost.posts.screen import join_url, qr_svg
from jamhost.posts.selectors import posts_for_room
from jamhost.posts.services import AUTO


def _console_jam(request: HttpRequest, slug: str) -> Jam:
    jam = get_object_or_404(Jam.objects.select_related("host", "current_question"), slug=slug)
    if not can_moderate(user=request.user, jam=jam):
        raise PermissionDenied(
            "Only the jam's host and moderators can open its console. "
            "Log in with the account that moderates it."
        )
    return jam


def _panels_context(request: HttpRequest, jam: Jam) -> dict[str, object]:
    return {
        "jam": jam,
        "people": people_in_jam(jam=jam),
        "answers": panelist_answers(jam=jam),
        "audit": audit_for_jam(jam=jam),
        "form_key": uuid.uuid4().hex,
    }


def console(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the console. POST: one action from a plain form (the no-JavaScript path)."""
    jam = _console_jam(request, slug)
    if request.method == "POST":
        return _console_post(request, jam)
    if request.method != "GET":
        return HttpResponse("Use GET or POST.", status=405, headers={"Allow": "GET, POST"})
    rev = jam.rev  # read before the posts: the socket catches up from here
    pinned, stream = posts_for_room(jam=jam, audience=MODERATOR)
    role = jam_role(user=request.user, jam=jam)
    released = released_of(jam.questions.all())
    return render(
        request,
        "live/console.html",
        {
            **_panels_context(request, jam),
            "rev": rev,
            "header": render_header(jam),
            "pinned": pinned,
            "stream": stream,
            "audience": MODERATOR,
            "role": role,
            "can_edit": can_edit(user=request.user, jam=jam),
            "can_moderate": True,
            "released": released,
            "modes": ModerationMode.choices,
            "compose": {
                "released": released,
                "client_key": uuid.uuid4().hex,
                "choice": AUTO if role in (Role.HOST, Role.PANELIST) else "",
            },
        },
    )


def _console_post(request: HttpRequest, jam: Jam) -> HttpResponse:
    htmx = bool(getattr(request, "htmx", False))
    try:
        outcome = action_apply(jam=jam, actor=request.user, fields=request.POST)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        status = 404 if getattr(exc, "code", None) == "not_found" else 409
        if htmx:
            return HttpResponse(notice_html(message, ok=False), status=status)
        return render(
            request,
            "error.html",
            {"title": "Not done", "message": message},
            status=status,
        )
    if htmx:
        return HttpResponse(notice_html(outcome.message, ok=True))
    messages.success(request, outcome.message)
    return redirect(request.get_full_path())


@require_GET
def console_panels(request: HttpRequest, slug: str) -> HttpResponse:
    """The people, answers and audit panels, refreshed by console.js as the jam changes."""
    jam = _console_jam(request, slug)
    return render(request, "live/_console_panels.html", _panels_context(request, jam))


@require_GET
def screen(request: HttpRequest, slug: str) -> HttpResponse:
    """The big screen for a room's projector: public, like the live room it mirrors (and
    a draft's, like its room, only for its people)."""
    jam = get_object_or_404(Jam.objects.select_related("current_question"), slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("draft")
    rev = jam.rev
    link = join_url(jam, request)
    return render(
        request,
        "live/screen.html",
        {
            "jam": jam,
            "rev": rev,
            "header": render_header(jam),
            "posts": list(posts_for_screen(jam=jam)),
            "join_url": link,
            "qr_svg": qr_svg(link),
        },
    )
