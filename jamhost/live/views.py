"""The live room page, the compose box and the host's controls during the hour."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from jamhost.core.text_rules import TextRule
from jamhost.jams import lifecycle, run_sheet
from jamhost.jams.forms import zone_from_name
from jamhost.jams.models import Jam, JamStatus, Role
from jamhost.jams.permissions import can_edit, can_moderate, can_view, jam_role
from jamhost.jams.selectors import jam_by_slug, questions_released
from jamhost.live.compose_box import render_compose_box
from jamhost.posts.compose import compose_text, text_rules_for
from jamhost.posts.render import VIEWER, render_header
from jamhost.posts.selectors import (
    post_sent_to,
    post_text_sent_before,
    post_texts_sent,
    posts_for_room,
)
from jamhost.posts.services import AUTO, post_held_for_approval, post_send, question_default
from jamhost.ratelimit import Limited, rate_check

# A form sent again (a resend after a timeout, a double click) whose first send was stored.
ALREADY_POSTED = "Already posted: this was sent before and is in the stream once."


def _is_htmx(request: HttpRequest) -> bool:
    details: HtmxDetails | None = getattr(request, "htmx", None)
    return bool(details)


def _compose_context(
    request: HttpRequest,
    jam: Jam,
    role: str | None,
    rules: tuple[TextRule, ...] | None = None,
    **extra: object,
) -> dict:
    released = questions_released(jam=jam)
    default_choice = AUTO if role in (Role.HOST, Role.PANELIST) else ""
    if rules is None:
        rules = text_rules_for(jam=jam, user=request.user)
    return {
        "jam": jam,
        "released": released,
        "held_for_approval": post_held_for_approval(jam=jam, author_role=role),
        "client_key": uuid.uuid4().hex,
        "choice": extra.pop("choice", default_choice),
        # The rules the post is held to, one counter each (the limit that binds marked);
        # the box's first count is the tightest limit's until the browser counts.
        "rules": rules,
        "limit": min(rule.limit for rule in rules),
        **extra,
    }


def _repeats(rules: tuple[TextRule, ...]) -> TextRule | None:
    """The rule of a network the post goes to that refuses the same text twice (X), for
    the compose box's warning; None when no such network applies."""
    return next((rule for rule in rules if rule.refuses_repeats), None)


def room(request: HttpRequest, slug: str) -> HttpResponse:
    jam = get_object_or_404(Jam.objects.select_related("host", "current_question"), slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("draft")
    rev = jam.rev  # read before the posts: the socket catches up from here
    pinned, stream = posts_for_room(jam=jam, audience=VIEWER)
    role = jam_role(user=request.user, jam=jam)
    compose = _compose_context(request, jam, role)
    repeats = _repeats(compose["rules"])
    return render(
        request,
        "live/room.html",
        {
            "jam": jam,
            "rev": rev,
            "header": render_header(jam),
            "pinned": pinned,
            "stream": stream,
            "audience": VIEWER,
            "role": role,
            "can_edit": can_edit(user=request.user, jam=jam),
            "can_moderate": can_moderate(user=request.user, jam=jam),
            "compose": compose,
            # What the compose box warns about before the same text goes twice to a
            # network that refuses it (X).
            "sent_texts": (
                post_texts_sent(user=request.user, jam=jam, network=repeats.network)
                if repeats is not None and jam.status in (JamStatus.LIVE, JamStatus.SCHEDULED)
                else []
            ),
        },
    )


def _choice(request: HttpRequest) -> int | str | None:
    raw = request.POST.get("question", AUTO)
    if raw == AUTO:
        return AUTO
    if raw in ("", "none"):
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationError({"question": "Pick a question from the list, or none."}) from exc


@require_POST
def compose(request: HttpRequest, slug: str) -> HttpResponse:
    jam = jam_by_slug(slug)
    if jam is None:
        raise Http404("No Jam matches the given query.")
    if not request.user.is_authenticated:
        # The box is shown only to people who are logged in, so this is a session that
        # expired while the room was open: log in again and come back to the room.
        return redirect_to_login(reverse("live:room", args=[jam.slug]))
    body = request.POST.get("body", "")
    raw_choice = request.POST.get("question", AUTO)
    # Read once: the post is judged by them and the box answered shows them.
    rules = text_rules_for(jam=jam, user=request.user)
    repeats = _repeats(rules)
    try:
        rate_check(
            request=request,
            scope="compose",
            user_key=str(request.user.pk),
            rates=(settings.RATE_COMPOSE_USER, settings.RATE_COMPOSE_ADDRESS),
            what="posts",
        )
    except Limited as limited:
        # A clear refusal in the compose box; the text the person wrote stays in it.
        role = jam_role(user=request.user, jam=jam)  # for the box's notes (a refusal only)
        context = _compose_context(
            request,
            jam,
            role,
            rules,
            body=body,
            errors={"__all__": [limited.message]},
            choice=raw_choice,
        )
        if _is_htmx(request):
            response = render(request, "live/_compose.html", context)
        else:
            messages.error(request, limited.message)
            response = redirect("live:room", slug=jam.slug)
        response["Retry-After"] = str(limited.retry_after)
        return response
    try:
        sent = post_send(
            jam=jam,
            user=request.user,
            body=body,
            question_number=_choice(request),
            client_key=(request.POST.get("client_key") or "")[:64] or None,
            rules=rules,
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        role = jam_role(user=request.user, jam=jam)  # for the box's notes (a refusal only)
        context = _compose_context(
            request, jam, role, rules, body=body, errors=errors, choice=raw_choice
        )
        if _is_htmx(request):
            return render(request, "live/_compose.html", context)
        messages.error(request, " ".join(m for ms in errors.values() for m in ms))
        return redirect("live:room", slug=jam.slug)
    if _is_htmx(request):
        post = sent.post
        # The post's role is the author's role in the jam, read by post_send: no query.
        context = _compose_context(
            request,
            jam,
            post.author_role,
            rules,
            sent=True,
            stored_before=sent.stored_before,
            choice=raw_choice,
            # The box adds it to the texts it warns about (the room page listed the rest).
            sent_text=post.text if repeats and post_sent_to(post, repeats.network) else "",
        )
        return render_compose_box(request, context)
    if sent.stored_before:
        messages.info(request, ALREADY_POSTED)
    return redirect("live:room", slug=jam.slug)


@require_POST
def compose_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The live counter: the text as it will be published and its length as each network
    it goes to counts it, the limit that binds marked."""
    jam = get_object_or_404(Jam.objects.select_related("current_question"), slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("draft")  # as the draft's room answers
    role = jam_role(user=request.user, jam=jam)
    body = request.POST.get("body", "")[:5000]
    try:
        choice = _choice(request)
    except ValidationError:
        choice = None
    if choice == AUTO:
        current = question_default(jam=jam, role=role)
        number = current.number if current else None
    else:
        number = choice if isinstance(choice, int) else None
    rules = text_rules_for(jam=jam, user=request.user)
    repeats = _repeats(rules)
    composed = compose_text(body=body, hashtag=jam.hashtag, question_number=number, rules=rules)
    empty = not body.strip()
    return render(
        request,
        "live/_compose_count.html",
        {
            "composed": composed,
            "jam": jam,
            "empty": empty,
            "repeats": repeats,
            "sent_before": not empty
            and repeats is not None
            and post_text_sent_before(
                user=request.user, text=composed.text, network=repeats.network
            ),
        },
    )


def _host_action(request: HttpRequest, slug: str) -> Jam:
    jam = get_object_or_404(Jam, slug=slug)
    if not can_edit(user=request.user, jam=jam):
        raise PermissionDenied("Only the jam's host can do that.")
    return jam


@require_POST
def release_next(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _host_action(request, slug)
    try:
        question = run_sheet.question_release_next(jam=jam)
        messages.success(request, f"Q{question.number} is out.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("live:room", slug=jam.slug)


@require_POST
def extend(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _host_action(request, slug)
    try:
        zone = zone_from_name(request.POST.get("time_zone", ""))
    except ValidationError:
        zone = None  # a clash is then told in UTC
    try:
        minutes = int(request.POST.get("minutes", "10"))
        lifecycle.jam_extend(jam=jam, minutes=minutes, time_zone=zone)
        messages.success(request, f"The jam now runs {minutes} minutes longer.")
    except ValueError:
        messages.error(request, "Give the extension in whole minutes.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("live:room", slug=jam.slug)


@require_POST
def start_now(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _host_action(request, slug)
    try:
        lifecycle.jam_go_live(jam=jam)
        messages.success(request, "The jam is live.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("live:room", slug=jam.slug)


@require_POST
def end_now(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _host_action(request, slug)
    try:
        lifecycle.jam_end(jam=jam)
        messages.success(request, "The jam has ended; its transcript is being archived.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("live:room", slug=jam.slug)
