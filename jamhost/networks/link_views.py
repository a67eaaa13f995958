"""Linking Bluesky and Mastodon accounts, unlinking, and retrying a post that failed to
reach one of them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from jamhost.networks.deliveries import delivery_retry
from jamhost.networks.links import (
    account_unlink,
    bluesky_link,
    mastodon_connect_start,
    mastodon_link,
)
from jamhost.networks.models import Network
from jamhost.networks.views import retry_answer
from jamhost.posts.models import Post


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages) or "That did not work; try again."


@login_required
@require_POST
def bluesky_connect(request: HttpRequest) -> HttpResponse:
    try:
        account = bluesky_link(
            user=request.user,
            identifier=request.POST.get("handle", "")[:300],
            app_password=request.POST.get("app_password", "")[:300],
        )
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(request, f"Bluesky account @{account.handle} connected.")
    return redirect("networks:account")


@login_required
@require_POST
def mastodon_connect(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    try:
        url = mastodon_connect_start(
            user=request.user, instance=request.POST.get("instance", "")[:200], next_url=next_url
        )
    except ValidationError as exc:
        messages.error(request, _message(exc))
        return redirect("networks:account")
    return redirect(url)


@login_required
def mastodon_callback(request: HttpRequest) -> HttpResponse:
    try:
        account, next_url = mastodon_link(
            user=request.user,
            state=request.GET.get("state", "")[:100],
            code=request.GET.get("code", "")[:500],
            error=request.GET.get("error", "")[:100],
        )
    except ValidationError as exc:
        messages.error(request, _message(exc))
        return redirect("networks:account")
    messages.success(request, f"Mastodon account @{account.handle} connected.")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return redirect(next_url)
    return redirect("networks:account")


@login_required
@require_POST
def unlink(request: HttpRequest, account_id: int) -> HttpResponse:
    try:
        account = account_unlink(user=request.user, account_id=account_id)
    except ValidationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(
            request,
            f"{account.get_network_display()} account @{account.handle} unlinked. "
            "Your new posts do not go there.",
        )
    return redirect("networks:account")


@require_POST
def retry(request: HttpRequest, post_id: int, network: str) -> HttpResponse:
    post = get_object_or_404(Post.objects.select_related("jam", "author"), pk=post_id)
    if network not in (Network.BLUESKY, Network.MASTODON):
        return HttpResponse("No such network.", status=404)
    return retry_answer(
        request,
        post,
        lambda: delivery_retry(post=post, actor=request.user, network=network),
        "Queued again.",
    )
