"""Moderators' actions on an author in one jam: block (their posts hidden, later ones
arrive hidden) and unblock. Each runs the shared steps of jamhost.posts.moderation."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jamhost.jams.locks import jam_lock
from jamhost.jams.models import Jam
from jamhost.posts.models import (
    AuthorRole,
    Block,
    ModerationAction,
    Post,
    PostStatus,
    app_author_key,
)
from jamhost.posts.moderation import (
    BLOCKED_REASON,
    Outcome,
    already_applied,
    audit,
    check_moderator,
    check_not_archived,
    clean_reason,
    resent,
    stamp_and_publish,
)
from jamhost.posts.services import status_for_new_post


def _author_sample(jam: Jam, author_key: str) -> Post:
    post = Post.objects.filter(jam_id=jam.pk, author_key=author_key).order_by("-seq").first()
    if post is None:
        raise ValidationError("Nobody by that name has posted in this jam.", code="not_found")
    return post


def author_block(
    *, jam: Jam, actor: Any, author_key: str, reason: str = "", key: str | None = None
) -> Outcome:
    """Block an author in this jam: every post of theirs not yet hidden is hidden (each
    with its own rev, so viewers drop them at once); later posts arrive hidden."""
    reason = clean_reason(reason)
    with transaction.atomic():
        check_moderator(actor, jam)
        jam = jam_lock(jam)
        entry = already_applied(jam, key)
        if entry is not None:
            return resent(entry)
        check_not_archived(jam)
        sample = _author_sample(jam, author_key)
        # Whether a post's author may be blocked is Post.moderation_actions' rule (the
        # console's block button), asked of their newest post; the host's key is refused
        # whatever their posts say.
        if author_key == app_author_key(jam.host_id) or sample.author_role == AuthorRole.HOST:
            raise ValidationError("The host cannot be blocked in their own jam.")
        if "block" not in sample.moderation_actions:
            raise ValidationError(
                f"@{sample.author_handle} cannot be blocked from their post #{sample.seq}; "
                "reload the console to see what it allows."
            )
        if author_key == app_author_key(actor.pk):
            raise ValidationError("You cannot block yourself.")
        _, created = Block.objects.get_or_create(
            jam_id=jam.pk,
            author_key=author_key,
            defaults={
                "author_handle": sample.author_handle,
                "blocked_by": actor,
                "reason": reason,
                "created_at": timezone.now(),
            },
        )
        if not created:
            return Outcome(f"@{sample.author_handle} is already blocked.", changed=False)
        posts = list(
            Post.objects.select_for_update(of=("self",))
            .select_related("question")
            .filter(jam_id=jam.pk, author_key=author_key)
            .exclude(status=PostStatus.HIDDEN)
            .order_by("seq")
        )
        for post in posts:
            post.status, post.status_reason = PostStatus.HIDDEN, BLOCKED_REASON
            stamp_and_publish(post, jam)
        audit(
            jam_id=jam.pk,
            actor=actor,
            action=ModerationAction.BLOCK,
            before={"blocked": False},
            after={"blocked": True, "hidden_posts": [p.seq for p in posts]},
            author_key=author_key,
            author_handle=sample.author_handle,
            reason=reason,
            key=key,
        )
    return Outcome(
        f"@{sample.author_handle} is blocked; {len(posts)} post(s) hidden.", changed=True
    )


def author_unblock(*, jam: Jam, actor: Any, author_key: str, key: str | None = None) -> Outcome:
    """Lift a block. The posts the block hid get the status a new post would get now
    (visible, or pending under pre-moderation or a muted word); posts a moderator hid
    by hand stay hidden."""
    with transaction.atomic():
        check_moderator(actor, jam)
        jam = jam_lock(jam)
        entry = already_applied(jam, key)
        if entry is not None:
            return resent(entry)
        check_not_archived(jam)
        block = Block.objects.filter(jam_id=jam.pk, author_key=author_key).first()
        if block is None:
            return Outcome("That author is not blocked.", changed=False)
        handle = block.author_handle
        block.delete()
        posts = list(
            Post.objects.select_for_update(of=("self",))
            .select_related("question")
            .filter(
                jam_id=jam.pk,
                author_key=author_key,
                status=PostStatus.HIDDEN,
                status_reason=BLOCKED_REASON,
            )
            .order_by("seq")
        )
        for post in posts:
            post.status, post.status_reason = status_for_new_post(
                jam=jam, author_role=post.author_role, author_key=author_key, text=post.text
            )
            stamp_and_publish(post, jam)
        audit(
            jam_id=jam.pk,
            actor=actor,
            action=ModerationAction.UNBLOCK,
            before={"blocked": True},
            after={"blocked": False, "restored_posts": [p.seq for p in posts]},
            author_key=author_key,
            author_handle=handle,
            key=key,
        )
    return Outcome(f"@{handle} is unblocked; {len(posts)} post(s) back.", changed=True)
