"""Upvotes on audience questions. The count is part of the post fragment, so every vote
that changes it takes the jam's next rev for the post and publishes it after commit: the
new count reaches every screen by the one live path."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jamhost.audience.models import Vote
from jamhost.audience.rules import (
    action_budget,
    is_own,
    post_in_jam,
    require_live,
    require_not_blocked,
    require_signed_in,
)
from jamhost.jams.counters import jam_next_rev
from jamhost.live.publish import post_changed_on_commit
from jamhost.posts.models import Post, PostStatus


def _votable(post: Post, user: Any) -> None:
    require_live(post.jam, "vote")
    require_not_blocked(post.jam, user)
    if not post.is_audience_question:
        raise ValidationError(
            "Only audience questions can be upvoted: a post with a “?” from someone who is "
            "not the host or a panelist."
        )
    if post.status != PostStatus.VISIBLE:
        raise ValidationError("This question is not shown in the jam, so it cannot be upvoted.")


def _recount(post: Post) -> Post:
    """Store the post's vote count with a new rev (jam row first, then the post row: the
    order post_insert and the moderation actions lock them in) and publish it."""
    _, rev = jam_next_rev(jam_id=post.jam_id)
    locked = Post.objects.select_for_update(of=("self",)).select_related("question").get(pk=post.pk)
    locked.upvotes = Vote.objects.filter(post_id=post.pk).count()
    locked.rev = rev
    locked.save(update_fields=["upvotes", "rev", "updated_at"])
    post_changed_on_commit(locked)
    return locked


def _budget(user: Any) -> AbstractContextManager[None]:
    """Counts each vote and take-back that goes through (a repeat counts too)."""
    return action_budget(
        user, kind="vote", per_minute=settings.AUDIENCE_VOTES_PER_MINUTE, what="votes"
    )


def vote_add(*, post_id: int, user: Any, jam_id: int | None = None) -> tuple[Post, bool]:
    """Upvote an audience question once. Returns (post, changed): a repeated or resent
    vote changes nothing and returns changed=False. Raises PermissionDenied (not signed
    in, blocked) or ValidationError (not a question, own question, jam not live, too many
    votes at once — code "throttled")."""
    require_signed_in(user, "upvote questions")
    post = post_in_jam(post_id=post_id, jam_id=jam_id)
    _votable(post, user)
    if is_own(post, user):
        raise ValidationError("This is your own question; let the others upvote it.")
    with _budget(user), transaction.atomic():
        if Vote.objects.filter(post_id=post.pk, user_id=user.pk).exists():
            return post, False
        try:
            with transaction.atomic():
                Vote.objects.create(post_id=post.pk, user_id=user.pk, created_at=timezone.now())
        except IntegrityError:  # the same vote, sent twice at once: the other one counted
            return post, False
        return _recount(post), True


def vote_remove(*, post_id: int, user: Any, jam_id: int | None = None) -> tuple[Post, bool]:
    """Take an upvote back. Returns (post, changed); taking back a vote that is not there
    changes nothing."""
    require_signed_in(user, "upvote questions")
    post = post_in_jam(post_id=post_id, jam_id=jam_id)
    require_live(post.jam, "vote")
    with _budget(user), transaction.atomic():
        deleted, _ = Vote.objects.filter(post_id=post.pk, user_id=user.pk).delete()
        if not deleted:
            return post, False
        return _recount(post), True


def votes_forget_user(*, user_id: int) -> list[Post]:
    """Delete every upvote the user gave (their account is going) and store each question's
    new count with a new rev, published after commit. Returns the recounted posts, in jam
    then seq order (the order their jam rows are locked in)."""
    with transaction.atomic():
        posts = list(Post.objects.filter(votes__user_id=user_id).order_by("jam_id", "seq"))
        Vote.objects.filter(user_id=user_id).delete()
        return [_recount(post) for post in posts]
