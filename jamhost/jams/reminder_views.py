"""Asking to be reminded of a jam, and the unsubscribe link its reminders carry."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_view
from jamhost.jams.reminders import rsvp_create, rsvp_from_token, rsvp_unsubscribe
from jamhost.ratelimit import Limited, rate_check


@require_POST
def rsvp(request: HttpRequest, slug: str) -> HttpResponse:
    jam = get_object_or_404(Jam, slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("draft")
    try:
        rate_check(
            request=request,
            scope="rsvp",
            user_key=None,
            rates=("", settings.RATE_RSVP_ADDRESS),
            what="reminder requests",
        )
        rsvp_create(jam=jam, email=request.POST.get("email", ""), user=request.user)
    except Limited as limited:
        messages.error(request, limited.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, "You will be reminded by email 24 hours and 15 minutes before the start."
        )
    return redirect(jam.get_absolute_url() + "#remind")


# The one-click POST of RFC 8058 comes from mail clients, without a CSRF token; the
# signed token in the address is what authorises it.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            found = rsvp_unsubscribe(token=token)
            done = True
        else:
            found = rsvp_from_token(token)
            done = found.unsubscribed_at is not None
    except ValidationError as exc:
        return render(
            request, "jams/unsubscribe.html", {"error": " ".join(exc.messages)}, status=400
        )
    return render(request, "jams/unsubscribe.html", {"rsvp": found, "jam": found.jam, "done": done})
