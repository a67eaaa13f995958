"""Moderators' actions on one post: approve, hide, restore, pin, feature, mark answered.
Each runs the shared steps of jamhost.posts.moderation (see its docstring)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from jamhost.core import events
from jamhost.jams.locks import jam_lock
from jamhost.jams.models import Jam
from jamhost.posts.models import WITHDRAWN_REASON, Kind, ModerationAction, Post, PostStatus
from jamhost.posts.moderation import (
    Outcome,
    already_applied,
    audit,
    check_moderator,
    check_not_archived,
    clean_reason,
    post_state,
    resent,
    stamp_and_publish,
)

# A change applies itself to the locked post and returns None, returns a message when
# there is nothing to do, or raises ValidationError when the action no longer fits.
Change = Callable[[Post], str | None]


def _post_action(
    *,
    jam: Jam,
    actor: Any,
    post_id: int,
    action: str,
    change: Change,
    done: str,
    key: str | None,
    reason: str = "",
) -> Outcome:
    with transaction.atomic():
        check_moderator(actor, jam)
        jam = jam_lock(jam)
        entry = already_applied(jam, key)
        if entry is not None:
            return resent(entry)
        check_not_archived(jam)
        try:
            post = (
                Post.objects.select_for_update(of=("self",))
                .select_related("question")
                .get(pk=post_id, jam_id=jam.pk)
            )
        except Post.DoesNotExist:
            raise ValidationError(
                f"There is no post {post_id} in this jam; it may belong to another jam.",
                code="not_found",
            ) from None
        before = post_state(post)
        nothing_to_do = change(post)
        if nothing_to_do is not None or post_state(post) == before:
            return Outcome(nothing_to_do or "Nothing to change.", changed=False, post=post)
        stamp_and_publish(post, jam)
        audit(
            jam_id=jam.pk,
            actor=actor,
            action=action,
            before=before,
            after=post_state(post),
            post=post,
            reason=reason,
            key=key,
        )
    return Outcome(f"Post #{post.seq} {done}.", changed=True, post=post)


def _require_visible(post: Post, what: str) -> None:
    if post.status != PostStatus.VISIBLE:
        raise ValidationError(
            f"Only a visible post can be {what}; this one is {post.status}. "
            "Approve or restore it first."
        )


def post_approve(*, jam: Jam, actor: Any, post_id: int, key: str | None = None) -> Outcome:
    """Pending -> visible. A post hidden meanwhile is refused: restoring it is a choice."""

    def change(post: Post) -> str | None:
        if post.status == PostStatus.VISIBLE:
            return "This post is already visible."
        if post.status == PostStatus.HIDDEN:
            raise ValidationError(
                "This post was hidden meanwhile"
                + (f" ({post.status_reason})" if post.status_reason else "")
                + "; restore it if it should be shown."
            )
        post.status, post.status_reason = PostStatus.VISIBLE, ""
        return None

    return _show(
        jam=jam,
        actor=actor,
        post_id=post_id,
        action=ModerationAction.APPROVE,
        change=change,
        done="approved",
        key=key,
    )


def post_hide(
    *, jam: Jam, actor: Any, post_id: int, reason: str = "", key: str | None = None
) -> Outcome:
    """Visible or pending -> hidden, with an optional reason; viewers lose it at once."""
    reason = clean_reason(reason)

    def change(post: Post) -> str | None:
        if post.status == PostStatus.HIDDEN:
            return "This post is already hidden."
        post.status, post.status_reason = PostStatus.HIDDEN, reason
        return None

    return _post_action(
        jam=jam,
        actor=actor,
        post_id=post_id,
        action=ModerationAction.HIDE,
        change=change,
        done="hidden",
        key=key,
        reason=reason,
    )


def post_restore(*, jam: Jam, actor: Any, post_id: int, key: str | None = None) -> Outcome:
    """Hidden (or pending) -> visible. A post removed with its author's account is
    refused: its words are gone."""

    def change(post: Post) -> str | None:
        if post.status == PostStatus.VISIBLE:
            return "This post is already visible."
        if post.is_removed_with_author:
            raise ValidationError(
                "This post was removed when its author deleted their account; its words "
                "are gone, so it cannot be shown again."
            )
        if post.status_reason == WITHDRAWN_REASON:
            raise ValidationError("Its author took this post back; it stays hidden.")
        post.status, post.status_reason = PostStatus.VISIBLE, ""
        return None

    return _show(
        jam=jam,
        actor=actor,
        post_id=post_id,
        action=ModerationAction.RESTORE,
        change=change,
        done="restored",
        key=key,
    )


def _show(
    *,
    jam: Jam,
    actor: Any,
    post_id: int,
    action: str,
    change: Change,
    done: str,
    key: str | None,
) -> Outcome:
    """Make a post visible (approve, restore). Showing a post is the moderator's answer to
    its open flags, so they are dismissed in the same transaction (with their own rev and
    audit entry); kept, the next single flag would send the post straight back to pending."""
    with transaction.atomic():
        outcome = _post_action(
            jam=jam, actor=actor, post_id=post_id, action=action, change=change, done=done, key=key
        )
        if outcome.changed:
            # The audience app dismisses the flags and answers with the post as it left it.
            for post in events.send(events.PostShown(post_id=post_id, jam_id=jam.pk, actor=actor)):
                outcome = replace(outcome, post=post)
    return outcome


def _flag_action(
    *,
    jam: Jam,
    actor: Any,
    post_id: int,
    key: str | None,
    field: str,
    value: bool,
    action: str,
    done: str,
    check: Callable[[Post], None] | None = None,
) -> Outcome:
    def change(post: Post) -> str | None:
        if getattr(post, field) == value:
            return f"This post is already {done}."
        if check is not None:
            check(post)
        setattr(post, field, value)
        return None

    return _post_action(
        jam=jam, actor=actor, post_id=post_id, action=action, change=change, done=done, key=key
    )


def post_pin(*, jam: Jam, actor: Any, post_id: int, key: str | None = None) -> Outcome:
    """Pin a visible post: viewers see it above the stream."""
    return _flag_action(
        jam=jam,
        actor=actor,
        post_id=post_id,
        key=key,
        field="pinned",
        value=True,
        action=ModerationAction.PIN,
        done="pinned",
        check=lambda post: _require_visible(post, "pinned"),
    )


def post_unpin(*, jam: Jam, actor: Any, post_id: int, key: str | None = None) -> Outcome:
    return _flag_action(
        jam=jam,
        actor=actor,
        post_id=post_id,
        key=key,
        field="pinned",
        value=False,
        action=ModerationAction.UNPIN,
        done="unpinned",
    )


def _check_featurable(post: Post) -> None:
    if post.kind != Kind.POST or post.question_id is None:
        raise ValidationError(
            "Only an answer to a question (a post with an A-number) can be featured."
        )
    _require_visible(post, "featured")


def post_feature(*, jam: Jam, actor: Any, post_id: int, key: str | None = None) -> Outcome:
    """Feature a visible answer as an answer to its question (the big screen shows it)."""
    return _flag_action(
        jam=jam,
        actor=actor,
        post_id=post_id,
        key=key,
        field="featured",
        value=True,
        action=ModerationAction.FEATURE,
        done="featured",
        check=_check_featurable,
    )


def post_unfeature(*, jam: Jam, actor: Any, post_id: int, key: str | None = None) -> Outcome:
    return _flag_action(
        jam=jam,
        actor=actor,
        post_id=post_id,
        key=key,
        field="featured",
        value=False,
        action=ModerationAction.UNFEATURE,
        done="unfeatured",
    )


def _check_audience_question(post: Post) -> None:
    if not post.is_audience_question:
        raise ValidationError(
            "Only an audience question (a “?” from someone who is not the host or a "
            "panelist) can be marked answered."
        )


def post_mark_answered(*, jam: Jam, actor: Any, post_id: int, key: str | None = None) -> Outcome:
    return _flag_action(
        jam=jam,
        actor=actor,
        post_id=post_id,
        key=key,
        field="answered",
        value=True,
        action=ModerationAction.ANSWER,
        done="answered",
        check=_check_audience_question,
    )


def post_mark_unanswered(*, jam: Jam, actor: Any, post_id: int, key: str | None = None) -> Outcome:
    return _flag_action(
        jam=jam,
        actor=actor,
        post_id=post_id,
        key=key,
        field="answered",
        value=False,
        action=ModerationAction.UNANSWER,
        done="unanswered",
    )
