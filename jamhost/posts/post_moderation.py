"""Moderators' actions on one post: approve, hide, restore, pin, feature, mark answered.
Each runs the shared steps of jamhost.posts.moderation (see its docstring). Whether an
action fits a post is decided once, by Post.moderation_actions: the console shows those
buttons and these services refuse anything else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class Change:
    """One post action's three parts. `already` answers an action that is done already
    (a repeat, or another moderator was first) with a message, not an error. Whether the
    action fits the post now is the one rule, Post.moderation_actions, that also decides
    the console's buttons; `why_not` words its refusal (None: a plain one). `apply`
    changes the locked post."""

    already: Callable[[Post], str | None]
    why_not: Callable[[Post], str | None]
    apply: Callable[[Post], None]


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
        nothing_to_do = change.already(post)
        if nothing_to_do is not None:
            return Outcome(nothing_to_do, changed=False, post=post)
        if action not in post.moderation_actions:
            raise ValidationError(
                change.why_not(post)
                or f"Post #{post.seq} cannot be {done} as it is now ({post.status}); "
                "reload the console to see what it allows."
            )
        before = post_state(post)
        change.apply(post)
        if post_state(post) == before:
            return Outcome("Nothing to change.", changed=False, post=post)
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


def _not_visible(post: Post, what: str) -> str | None:
    if post.status == PostStatus.VISIBLE:
        return None
    return (
        f"Only a visible post can be {what}; this one is {post.status}. "
        "Approve or restore it first."
    )


def _visible_again(post: Post) -> None:
    post.status, post.status_reason = PostStatus.VISIBLE, ""


def _already_visible(post: Post) -> str | None:
    return "This post is already visible." if post.status == PostStatus.VISIBLE else None


def post_approve(*, jam: Jam, actor: Any, post_id: int, key: str | None = None) -> Outcome:
    """Pending -> visible. A post hidden meanwhile is refused: restoring it is a choice."""

    def why_not(post: Post) -> str | None:
        if post.status != PostStatus.HIDDEN:
            return None
        return (
            "This post was hidden meanwhile"
            + (f" ({post.status_reason})" if post.status_reason else "")
            + "; restore it if it should be shown."
        )

    return _show(
        jam=jam,
        actor=actor,
        post_id=post_id,
        action=ModerationAction.APPROVE,
        change=Change(already=_already_visible, why_not=why_not, apply=_visible_again),
        done="approved",
        key=key,
    )


def post_hide(
    *, jam: Jam, actor: Any, post_id: int, reason: str = "", key: str | None = None
) -> Outcome:
    """Visible or pending -> hidden, with an optional reason; viewers lose it at once."""
    reason = clean_reason(reason)

    def already(post: Post) -> str | None:
        return "This post is already hidden." if post.status == PostStatus.HIDDEN else None

    def apply(post: Post) -> None:
        post.status, post.status_reason = PostStatus.HIDDEN, reason

    return _post_action(
        jam=jam,
        actor=actor,
        post_id=post_id,
        action=ModerationAction.HIDE,
        change=Change(already=already, why_not=lambda post: None, apply=apply),
        done="hidden",
        key=key,
        reason=reason,
    )


def post_restore(*, jam: Jam, actor: Any, post_id: int, key: str | None = None) -> Outcome:
    """Hidden -> visible. A post removed with its author's account is refused (its words
    are gone), and so is one its author took back; a pending post is approved instead."""

    def why_not(post: Post) -> str | None:
        if post.is_removed_with_author:
            return (
                "This post was removed when its author deleted their account; its words "
                "are gone, so it cannot be shown again."
            )
        if post.status_reason == WITHDRAWN_REASON:
            return "Its author took this post back; it stays hidden."
        if post.status == PostStatus.PENDING:
            return "This post is waiting for approval, not hidden: approve it to show it."
        return None

    return _show(
        jam=jam,
        actor=actor,
        post_id=post_id,
        action=ModerationAction.RESTORE,
        change=Change(already=_already_visible, why_not=why_not, apply=_visible_again),
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
    why_not: Callable[[Post], str | None],
) -> Outcome:
    def already(post: Post) -> str | None:
        return f"This post is already {done}." if getattr(post, field) == value else None

    def apply(post: Post) -> None:
        setattr(post, field, value)

    return _post_action(
        jam=jam,
        actor=actor,
        post_id=post_id,
        action=action,
        change=Change(already=already, why_not=why_not, apply=apply),
        done=done,
        key=key,
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
        why_not=lambda post: _not_visible(post, "pinned"),
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
        why_not=lambda post: _not_visible(post, "unpinned"),
    )


def _not_featurable(post: Post) -> str | None:
    if post.kind != Kind.POST or post.question_id is None:
        return "Only an answer to a question (a post with an A-number) can be featured."
    return _not_visible(post, "featured")


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
        why_not=_not_featurable,
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
        why_not=lambda post: _not_visible(post, "unfeatured"),
    )


def _not_audience_question(post: Post, what: str) -> str | None:
    if post.is_audience_question:
        return None
    return (
        "Only an audience question (a “?” from someone who is not the host or a "
        f"panelist) can be marked {what}."
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
        why_not=lambda post: _not_audience_question(post, "answered"),
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
        why_not=lambda post: _not_audience_question(post, "unanswered"),
    )
