"""Sign in with X, disconnect, and retrying a post that failed to reach X."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from jamhost.networks.accounts import (
    x_account_disconnect,
    x_account_link,
    x_configured,
    x_connect_start,
)
from jamhost.networks.models import LinkedAccount, Network, OAuthState, XAccount
from jamhost.networks.publishing import post_publish_retry
from jamhost.posts.models import Post
from jamhost.posts.weblinks import avatar_url


def _first_message(exc: ValidationError) -> str:
    return " ".join(exc.messages) or "That did not work; try again."


@login_required
def account(request: HttpRequest) -> HttpResponse:
    linked = XAccount.objects.filter(user_id=request.user.pk or 0).first()
    others = LinkedAccount.objects.filter(user_id=request.user.pk or 0).order_by("network", "pk")
    return render(
        request,
        "networks/account.html",
        {
            "x_account": linked,
            # Only from AVATAR_HOSTS, as every avatar jamhost shows (the CSP allows no other).
            "x_avatar": avatar_url(linked.avatar_url) if linked else "",
            "x_configured": x_configured(),
            "bluesky_accounts": [a for a in others if a.network == Network.BLUESKY],
            "mastodon_accounts": [a for a in others if a.network == Network.MASTODON],
            "bluesky_enabled": settings.BLUESKY_ENABLED,
            "bluesky_service": settings.BLUESKY_SERVICE,
            "mastodon_enabled": settings.MASTODON_ENABLED,
            "mastodon_instances": settings.MASTODON_INSTANCES,
        },
    )


@login_required
@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    try:
        url = x_connect_start(user=request.user, next_url=next_url)
    except ValidationError as exc:
        messages.error(request, _first_message(exc))
        return redirect("networks:account")
    return redirect(url)


@login_required
def callback(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")[:100]
    pending = OAuthState.objects.filter(state=state, user_id=request.user.pk or 0).first()
    next_url = pending.next_url if pending else ""
    try:
        linked = x_account_link(
            user=request.user,
            state=state,
            code=request.GET.get("code", "")[:500],
            error=request.GET.get("error", ""),
        )
    except ValidationError as exc:
        messages.error(request, _first_message(exc))
        return redirect("networks:account")
    messages.success(request, f"X account @{linked.username} connected.")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return redirect(next_url)
    return redirect("networks:account")


@login_required
@require_POST
def disconnect(request: HttpRequest) -> HttpResponse:
    x_account_disconnect(user=request.user)
    messages.success(request, "X account disconnected. Your new posts stay on jamhost only.")
    return redirect("networks:account")


@require_POST
def retry(request: HttpRequest, post_id: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.select_related("jam", "author"), pk=post_id)
    return retry_answer(
        request,
        post,
        lambda: post_publish_retry(post=post, actor=request.user),
        "Queued for X again.",
    )


def retry_answer(
    request: HttpRequest, post: Post, requeue: Callable[[], object], done: str
) -> HttpResponse:
    """Queue a failed post again and answer: 204 to htmx (the live frame shows the new
    state), 403/409 with the reason, or back to the room with a message."""
    try:
        requeue()
    except PermissionDenied as exc:
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponse(str(exc), status=403)
        raise
    except ValidationError as exc:
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponse(_first_message(exc), status=409)
        messages.error(request, _first_message(exc))
        return redirect("live:room", slug=post.jam.slug)
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse(status=204)
    messages.success(request, done)
    return redirect("live:room", slug=post.jam.slug)
