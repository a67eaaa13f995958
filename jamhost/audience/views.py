"""The audience's endpoints: votes, flags, replies and follow-ups as small JSON answers for
static/js/audience.js, the per-user marks, the people panel, a person's page in a jam,
the follow-up list and the moderators' flag list. Thin: parse, call one service or
selector, answer. Every refusal is a message with a 4xx status, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from jamhost.audience import flags, follows, replies, votes
from jamhost.audience.models import FlagReason
from jamhost.audience.selectors import (
    flagged_posts,
    follow_ups_for,
    participant_marks,
    people_to_follow,
    person_posts,
)
from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_edit, can_moderate, can_view
from jamhost.posts.models import Post
from jamhost.ratelimit import Limited, rate_check
from jamhost.spreadsheets import SafeWriter

PEOPLE_PANEL_SECONDS = 5


def _jam(request: HttpRequest, slug: str) -> Jam:
    jam = get_object_or_404(Jam, slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise PermissionDenied("This jam is a draft; only its host and people can see it.")
    return jam


def _refusal(exc: Exception) -> JsonResponse:
    if isinstance(exc, PermissionDenied):
        return JsonResponse(
            {"ok": False, "message": str(exc) or "You may not do that."}, status=403
        )
    assert isinstance(exc, ValidationError)
    code = getattr(exc, "code", None)
    status = {"not_found": 404, "throttled": 429}.get(code or "", 400)
    fields = exc.message_dict if hasattr(exc, "error_dict") else {}
    return JsonResponse(
        {"ok": False, "message": " ".join(exc.messages), "errors": fields}, status=status
    )


def _answer(run: Callable[[], tuple[str, dict[str, Any]]]) -> JsonResponse:
    try:
        message, extra = run()
    except (PermissionDenied, ValidationError) as exc:
        return _refusal(exc)
    return JsonResponse({"ok": True, "message": message, **extra})


def _post_state(post: Post, changed: bool) -> dict[str, Any]:
    return {"post": post.pk, "rev": post.rev, "upvotes": post.upvotes, "changed": changed}


@require_POST
def vote(request: HttpRequest, slug: str, post_id: int) -> JsonResponse:
    """vote=add (default) or vote=remove."""
    jam = _jam(request, slug)
    remove = request.POST.get("vote") == "remove"

    def run() -> tuple[str, dict[str, Any]]:
        service = votes.vote_remove if remove else votes.vote_add
        post, changed = service(post_id=post_id, user=request.user, jam_id=jam.pk)
        if remove:
            message = "Upvote taken back." if changed else "You had not upvoted this question."
        else:
            message = "Upvoted." if changed else "You have already upvoted this question."
        return message, {**_post_state(post, changed), "voted": not remove}

    return _answer(run)


@require_POST
def flag(request: HttpRequest, slug: str, post_id: int) -> JsonResponse:
    jam = _jam(request, slug)

    def run() -> tuple[str, dict[str, Any]]:
        post, changed = flags.flag_add(
            post_id=post_id,
            user=request.user,
            reason=request.POST.get("reason", "")[:20],
            jam_id=jam.pk,
        )
        message = (
            "Flagged. The moderators will look at it."
            if changed
            else "You have already flagged this post; the moderators have it."
        )
        return message, {**_post_state(post, changed), "flagged": True}

    return _answer(run)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def flag_dismiss(request: HttpRequest, slug: str, post_id: int) -> HttpResponse:
    """JSON for audience.js (a console fragment's button); a redirect back to the flag
    list for its plain form."""
    jam = _jam(request, slug)
    try:
        post, changed = flags.flag_dismiss(post_id=post_id, actor=request.user, jam_id=jam.pk)
    except (PermissionDenied, ValidationError) as exc:
        if _wants_json(request) or isinstance(exc, PermissionDenied):
            return _refusal(exc)
        messages.error(request, " ".join(exc.messages))
        return redirect("audience:flags", slug=jam.slug)
    message = (
        f"Flags on post #{post.seq} dismissed."
        if changed
        else f"Post #{post.seq} has no open flags."
    )
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": message, **_post_state(post, changed)})
    messages.success(request, message)
    return redirect("audience:flags", slug=jam.slug)


@require_POST
def reply(request: HttpRequest, slug: str, post_id: int) -> JsonResponse:
    jam = _jam(request, slug)
    try:
        # A reply is a post: it shares the compose box's budget.
        rate_check(
            request=request,
            scope="compose",
            user_key=str(request.user.pk) if request.user.is_authenticated else None,
            rates=(settings.RATE_COMPOSE_USER, settings.RATE_COMPOSE_ADDRESS),
            what="posts",
        )
    except Limited as limited:
        response = JsonResponse({"ok": False, "message": limited.message}, status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response

    def run() -> tuple[str, dict[str, Any]]:
        post = replies.reply_compose(
            jam=jam,
            user=request.user,
            parent_id=post_id,
            body=request.POST.get("body", ""),
            client_key=(request.POST.get("client_key") or "")[:64] or None,
        )
        message = (
            "Replied."
            if post.status == "visible"
            else "Sent. Your reply waits for a moderator before others see it."
        )
        return message, {"post": post.pk, "rev": post.rev, "status": post.status}

    return _answer(run)


@require_GET
def marks(request: HttpRequest, slug: str) -> JsonResponse:
    """The signed-in user's own votes, flags and follow-ups in the jam (never cached:
    this is the per-user part the shared fragments leave out)."""
    jam = _jam(request, slug)
    response = JsonResponse(participant_marks(jam=jam, user=request.user))
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def people(request: HttpRequest, slug: str) -> HttpResponse:
    """The people-to-follow panel. The same for everyone, so each process renders it at
    most once every few seconds however many screens ask."""
    jam = _jam(request, slug)
    key = f"audience:people:{jam.pk}"
    html = cache.get(key)
    if html is None:
        html = render_to_string(
            "audience/_people.html", {"jam": jam, "people": people_to_follow(jam=jam)}
        )
        cache.set(key, html, PEOPLE_PANEL_SECONDS)
    return HttpResponse(html)


@require_GET
def person(request: HttpRequest, slug: str, author_key: str) -> HttpResponse:
    """Someone's page in a jam: what they posted there (their jamhost profile)."""
    jam = _jam(request, slug)
    posts = [] if "\x00" in author_key else person_posts(jam=jam, author_key=author_key[:80])
    if not posts:
        return render(
            request,
            "error.html",
            {"title": "Not found", "message": "Nobody by that name has posted in this jam."},
            status=404,
        )
    return render(
        request,
        "audience/person.html",
        {"jam": jam, "posts": posts, "author": posts[-1], "audience": "viewer"},
    )


@require_POST
def follow_up(request: HttpRequest, slug: str) -> JsonResponse:
    """follow=add (default) or follow=remove, for author=<author key>."""
    jam = _jam(request, slug)
    author_key = request.POST.get("author", "")[:80]

    def run() -> tuple[str, dict[str, Any]]:
        if request.POST.get("follow") == "remove":
            removed = follows.followup_remove(jam=jam, user=request.user, author_key=author_key)
            return ("Removed from your follow-ups." if removed else "Not on your list."), {
                "author": author_key,
                "following": False,
            }
        mark, created = follows.followup_add(jam=jam, user=request.user, author_key=author_key)
        text = f"@{mark.author_handle} is on your follow-up list."
        return (text if created else f"@{mark.author_handle} was already on your list."), {
            "author": author_key,
            "following": True,
        }

    return _answer(run)


@login_required
@require_GET
def follow_ups(request: HttpRequest, slug: str) -> HttpResponse:
    """The user's follow-up list for the jam, with a CSV download (?format=csv)."""
    jam = _jam(request, slug)
    entries = list(follow_ups_for(user=request.user, jam=jam))
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{jam.slug}-follow-ups.csv"'
        response.write("\ufeff")  # UTF-8 with a byte order mark, so Excel reads names right
        writer = SafeWriter(response)
        writer.writerow(["handle", "name", "profile", "marked_at"])
        for entry in entries:
            url = request.build_absolute_uri(entry.profile_url)
            writer.writerow(
                [
                    "@" + entry.author_handle,
                    entry.author_name,
                    url,
                    entry.created_at.isoformat(),
                ]
            )
        return response
    return render(request, "audience/follow_ups.html", {"jam": jam, "entries": entries})


@require_GET
def flag_list(request: HttpRequest, slug: str) -> HttpResponse:
    """Moderators: every post with open flags, its reasons, and a dismiss button; the
    host sets the threshold here."""
    jam = _jam(request, slug)
    if not can_moderate(user=request.user, jam=jam):
        raise PermissionDenied("Only the jam's host and moderators can see its flags.")
    return render(
        request,
        "audience/flags.html",
        {
            "jam": jam,
            "flagged": flagged_posts(jam=jam),
            "can_edit": can_edit(user=request.user, jam=jam),
            "reasons": FlagReason.choices,
        },
    )


@require_POST
def flag_threshold(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _jam(request, slug)
    try:
        flags.jam_set_flag_threshold(
            jam=jam, actor=request.user, threshold=request.POST.get("threshold", "")[:12]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"A post now goes to pending at {jam.flag_threshold} flags."
            if jam.flag_threshold
            else "Flags no longer send posts to pending by themselves.",
        )
    return redirect("audience:flags", slug=jam.slug)
