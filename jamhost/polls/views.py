"""Poll endpoints: thin. A vote answers JSON (static/js/polls.js) or, without JavaScript,
redirects back with a message; the host's and moderators' forms redirect back with the
outcome. Every refusal is a sentence, never a 500, and changes nothing."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_view
from jamhost.polls import services
from jamhost.polls.models import Poll, PollVote
from jamhost.ratelimit import Limited, rate_hit

FORM_OPTIONS = 4


def _jam(request: HttpRequest, slug: str) -> Jam:
    jam = get_object_or_404(Jam, slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("No such jam.")
    return jam


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _back(request: HttpRequest, jam: Jam) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("live:room", slug=jam.slug)


def _options(request: HttpRequest) -> list[str]:
    """The options as the form sends them: `option` fields, or one a line in `options`."""
    given = request.POST.getlist("option")
    if not any(o.strip() for o in given):
        given = request.POST.get("options", "").splitlines()
    return given


@require_GET
def mine(request: HttpRequest, slug: str) -> HttpResponse:
    """What is yours in the jam's polls (the fragment is the same for everyone): the
    option you voted for in each poll, by poll id."""
    jam = _jam(request, slug)
    votes: dict[str, int] = {}
    if request.user.is_authenticated:
        votes = {
            str(poll_id): position
            for poll_id, position in PollVote.objects.filter(
                poll__jam=jam, user_id=request.user.pk
            ).values_list("poll_id", "option__position")
        }
    response = JsonResponse({"votes": votes})
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def vote(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    jam = _jam(request, slug)
    status, ok = 200, True
    try:
        if request.user.is_authenticated:
            rate_hit(
                scope="poll_vote",
                key=str(request.user.pk),
                rate=settings.RATE_POLL_VOTE_USER,
                what="poll votes",
            )
        _, changed = services.poll_vote(
            poll_id=pk, jam_id=jam.pk, user=request.user, option=request.POST.get("option", "")
        )
        chosen = request.POST.get("option", "").strip()
        message = "Your vote is counted." if changed else "That is already your vote."
    except Poll.DoesNotExist:
        raise Http404("No such poll in this jam.") from None
    except Limited as exc:
        status, ok, message, chosen = 429, False, exc.message, ""
    except PermissionDenied as exc:
        status, ok, message, chosen = 403, False, str(exc), ""
    except ValidationError as exc:
        status, ok, message, chosen = 400, False, " ".join(exc.messages), ""
    if _wants_json(request):
        return JsonResponse({"ok": ok, "message": message, "option": chosen}, status=status)
    if status == 403:  # signed out: sign in, then back to the room
        return redirect_to_login(reverse("live:room", args=[jam.slug]))
    (messages.success if ok else messages.error)(request, message)
    return _back(request, jam)


@require_POST
def launch(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam(request, slug)
    try:
        poll = services.poll_launch(
            jam=jam,
            user=request.user,
            text=request.POST.get("text", ""),
            options=_options(request),
            open_minutes=request.POST.get("minutes", ""),
            on_x=request.POST.get("on_x") == "on",
        )
        messages.success(request, f"The poll is open for {poll.open_minutes} minutes.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, jam)


@require_POST
def add(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam(request, slug)
    try:
        poll = services.poll_add(
            jam=jam,
            user=request.user,
            text=request.POST.get("text", ""),
            options=_options(request),
            open_minutes=request.POST.get("minutes", ""),
            offset_minutes=request.POST.get("offset", ""),
            on_x=request.POST.get("on_x") == "on",
        )
        messages.success(request, f"The poll opens {poll.offset_minutes} minutes after the start.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, jam)


@require_POST
def delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    jam = _jam(request, slug)
    poll = get_object_or_404(Poll.objects.select_related("jam"), pk=pk, jam=jam)
    try:
        services.poll_delete(poll=poll, user=request.user)
        messages.success(request, "The poll is off the run-sheet.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, jam)


@require_POST
def close(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    jam = _jam(request, slug)
    poll = get_object_or_404(Poll.objects.select_related("jam"), pk=pk, jam=jam)
    try:
        services.poll_close_now(poll=poll, user=request.user)
        messages.success(request, "The poll is closed.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, jam)
