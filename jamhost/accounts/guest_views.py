"""Posting as a guest from the live room (plain forms), and the host's guest setting."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from jamhost.accounts.guests import guest_join, guest_post, guest_post_withdraw, guests_set
from jamhost.accounts.models import Guest
from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_view
from jamhost.posts.models import PostStatus
from jamhost.ratelimit import Limited, client_address, rate_check


def _session_key(jam: Jam) -> str:
    return f"guest:{jam.pk}"


def session_guest(request: HttpRequest | None, jam: Jam) -> Guest | None:
    """The guest this browser session posts as in `jam`, if any."""
    if request is None or not hasattr(request, "session"):
        return None
    guest_id = request.session.get(_session_key(jam))
    if not isinstance(guest_id, int):
        return None
    return Guest.objects.filter(pk=guest_id, jam=jam).first()


def _jam(request: HttpRequest, slug: str) -> Jam:
    jam = get_object_or_404(Jam, slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("draft")
    return jam


def _room(jam: Jam) -> HttpResponse:
    return redirect(reverse("live:room", args=[jam.slug]) + "#guest-box")


def _say(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


@require_POST
def join(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam(request, slug)
    try:
        guest = guest_join(
            jam=jam,
            display_name=request.POST.get("display_name", ""),
            address=client_address(request),
        )
    except ValidationError as exc:
        _say(request, exc)
    else:
        request.session[_session_key(jam)] = guest.pk
        messages.success(request, f"You are posting as {guest.display_name} (guest).")
    return _room(jam)


@require_POST
def post(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam(request, slug)
    guest = session_guest(request, jam)
    if guest is None:
        messages.error(request, "Enter a name to post as a guest first.")
        return _room(jam)
    try:
        rate_check(
            request=request,
            scope="guest_post",
            # The "user" limit is the jam's: all its guests together.
            user_key=f"jam{jam.pk}",
            rates=(settings.RATE_GUEST_POST_JAM, settings.RATE_GUEST_POST_ADDRESS),
            what="guest posts",
        )
        sent = guest_post(
            guest=guest,
            body=request.POST.get("body", ""),
            client_key=request.POST.get("client_key") or None,
        )
    except Limited as limited:
        messages.error(request, limited.message)
    except ValidationError as exc:
        _say(request, exc)
    else:
        held = sent.status == PostStatus.PENDING
        messages.success(
            request, "Posted; a moderator approves it before others see it." if held else "Posted."
        )
    return _room(jam)


@require_POST
def withdraw(request: HttpRequest, slug: str, post_id: int) -> HttpResponse:
    jam = _jam(request, slug)
    guest = session_guest(request, jam)
    if guest is None:
        raise PermissionDenied("Only the guest who wrote a post can take it back.")
    try:
        guest_post_withdraw(guest=guest, post_id=post_id)
    except ValidationError as exc:
        _say(request, exc)
    else:
        messages.success(request, "Your post is deleted.")
    return _room(jam)


@require_POST
def policy(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam(request, slug)
    guests_set(
        jam=jam,
        actor=request.user,
        enabled=request.POST.get("enabled") == "on",
        hold_for_moderation=request.POST.get("hold_for_moderation") == "on",
    )
    messages.success(request, "Guest posting saved.")
    return redirect(reverse("jams:edit", args=[jam.slug]) + "#guests")
