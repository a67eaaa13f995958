"""Who may take part, and in what: the checks votes, flags, replies and follow-ups share.
Every refusal is a ValidationError worded for the person who tried."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from jamhost.jams.models import Jam, JamStatus
from jamhost.posts.models import Post
from jamhost.posts.moderation import author_is_blocked
from jamhost.posts.services import author_key_for_user
from jamhost.ratelimit import Limited, rate_spent


def require_signed_in(user: Any, what: str) -> None:
    if user is None or not user.is_authenticated:
        raise PermissionDenied(f"Log in to {what}. Reading needs no account; {what} does.")


def require_live(jam: Jam, what: str) -> None:
    if jam.status != JamStatus.LIVE:
        when = "has ended" if jam.is_over else "is not live yet"
        raise ValidationError(f"This jam {when}, so you cannot {what} now.")


def require_not_blocked(jam: Jam, user: Any) -> None:
    if author_is_blocked(jam=jam, author_key=author_key_for_user(user)):
        raise PermissionDenied("The moderators have blocked you in this jam.")


def post_in_jam(*, post_id: int, jam_id: int | None = None) -> Post:
    """The post with its jam (and question, for rendering), or a refusal that says why."""
    post = Post.objects.select_related("jam", "question").filter(pk=post_id).first()
    if post is None:
        raise ValidationError(
            f"There is no post {post_id}; it may have been deleted.", code="not_found"
        )
    if jam_id is not None and post.jam_id != jam_id:
        raise ValidationError(
            f"Post {post_id} belongs to another jam; reload this jam's room.", code="not_found"
        )
    return post


def is_own(post: Post, user: Any) -> bool:
    return post.author_id == user.pk or post.author_key == author_key_for_user(user)


@contextmanager
def action_budget(user: Any, *, kind: str, per_minute: int, what: str) -> Iterator[None]:
    """At most `per_minute` actions of a kind (vote, flag) per person, counted by the
    project's one limiter (jamhost.ratelimit: Redis in production, so every web process
    shares the budget). Wrap the action's transaction: an action that raises or rolls
    back gives its count back. Raises ValidationError(code="throttled") saying when to
    try again."""
    with ExitStack() as stack:
        try:
            stack.enter_context(
                rate_spent(
                    scope=f"audience:{kind}:user",
                    key=str(user.pk),
                    rate=f"{per_minute}/60",
                    what=what,
                )
            )
        except Limited as limited:
            raise ValidationError(
                f"That is a lot of {what} at once ({per_minute} per 60 s). "
                f"Try again in {limited.retry_after} s.",
                code="throttled",
            ) from None
        yield
