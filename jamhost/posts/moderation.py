"""Moderation: the rule that decides whether a new post's author is blocked, and the
actions moderators take on posts and authors while a jam runs.

Every action is a service that, inside one transaction:

1. checks that the actor may moderate the jam *now* (a role removed mid-jam is refused
   even on a socket opened before the removal);
2. locks the jam row, then the post rows, the order post_insert takes them in, so actions
   and new posts never deadlock; two moderators acting on one post are serialised here,
   and the second sees the state the first left;
3. skips an action whose idempotency key was already applied (a ws-send resent after a
   reconnect) and refuses or skips an action that no longer fits the post's state;
4. takes the jam's next rev for each changed post, writes an AuditEntry (who, what, when,
   state before and after, reason) and publishes the post after commit, which updates
   every console and, through render_post's removal marker, every viewer.

They return an Outcome; they raise PermissionDenied (not a moderator) or ValidationError
(a refusal worded for the moderator; code "not_found" for an unknown post or author).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from jamhost.jams.counters import jam_next_rev
from jamhost.jams.models import Jam, JamStatus, ModerationMode
from jamhost.jams.permissions import can_edit, can_moderate
from jamhost.live.publish import jam_changed_on_commit, post_changed_on_commit
from jamhost.networks.publishing import publication_release
from jamhost.posts.models import (
    WITHDRAWN_REASON,
    AuditEntry,
    AuthorRole,
    Block,
    Kind,
    ModerationAction,
    Post,
    PostStatus,
    app_author_key,
)

# The reason status_for_new_post gives a blocked author's post; unblocking restores
# exactly the posts hidden for this reason, not ones a moderator hid by hand.
BLOCKED_REASON = "author blocked"
MAX_REASON_CHARS = 200
MAX_MUTED_WORDS = 200
MAX_MUTED_WORD_CHARS = 60

STATE_FIELDS = ("status", "status_reason", "pinned", "featured", "answered")


@dataclass(frozen=True)
class Outcome:
    """What an action did. `changed` is False when there was nothing left to do (another
    moderator got there first, or the same action was resent)."""

    message: str
    changed: bool
    post: Post | None = None


def author_is_blocked(*, jam: Jam, author_key: str) -> bool:
    """True when the author is blocked in this jam."""
    return Block.objects.filter(jam_id=jam.pk, author_key=author_key).exists()


# Shared steps ------------------------------------------------------------------------


def _check_moderator(actor: Any, jam: Jam) -> None:
    if not can_moderate(user=actor, jam=jam):
        raise PermissionDenied(
            "You are not a moderator of this jam (any more), so you cannot moderate it."
        )


def jam_lock(jam: Jam) -> Jam:
    """The jam's row, locked for the transaction: every live change takes it, and so does
    archiving."""
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the join.
    return (
        Jam.objects.select_for_update(of=("self",))
        .select_related("current_question")
        .get(pk=jam.pk)
    )


def check_not_archived(jam: Jam) -> None:
    # Called on the locked row: archiving takes the same lock, so an action either lands
    # before the snapshot (and is in it) or is refused here.
    if jam.status == JamStatus.ARCHIVED:
        raise ValidationError(
            "This jam is archived; its transcript is final. Its posts and authors can no "
            "longer be moderated (an ended jam can be, until it is archived)."
        )


def _already_applied(jam: Jam, key: str | None) -> AuditEntry | None:
    if not key:
        return None
    return AuditEntry.objects.filter(jam_id=jam.pk, key=key).select_related("post").first()


def _resent(entry: AuditEntry) -> Outcome:
    return Outcome(
        f"Already done: @{entry.actor_handle} {entry.get_action_display()} this at "
        f"{entry.created_at:%H:%M:%S} UTC.",
        changed=False,
        post=entry.post,
    )


def _state(post: Post) -> dict[str, Any]:
    return {field: getattr(post, field) for field in STATE_FIELDS}


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON_CHARS:
        raise ValidationError(
            f"Keep the reason to {MAX_REASON_CHARS} characters (this one has {len(reason)})."
        )
    return reason


def _audit(
    *,
    jam: Jam,
    actor: Any,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    post: Post | None = None,
    author_key: str = "",
    author_handle: str = "",
    reason: str = "",
    key: str | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        jam_id=jam.pk,
        post=post,
        author_key=author_key or (post.author_key if post else ""),
        author_handle=author_handle or (post.author_handle if post else ""),
        actor=actor,
        actor_handle=actor.get_username(),
        action=action,
        before=before,
        after=after,
        reason=reason,
        key=key or None,
        created_at=timezone.now(),
    )


def _stamp_and_publish(post: Post, jam: Jam) -> None:
    # The one place a moderation action changes a post: one held back from X until it
    # was shown goes out now (a pending post approved, a hidden one restored).
    publication_release(post=post)
    _, post.rev = jam_next_rev(jam_id=jam.pk)
    post.save(update_fields=[*STATE_FIELDS, "rev", "updated_at"])
    post_changed_on_commit(post)


# Post actions ------------------------------------------------------------------------

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
        _check_moderator(actor, jam)
        jam = jam_lock(jam)
        entry = _already_applied(jam, key)
        if entry is not None:
            return _resent(entry)
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
        before = _state(post)
        nothing_to_do = change(post)
        if nothing_to_do is not None or _state(post) == before:
            return Outcome(nothing_to_do or "Nothing to change.", changed=False, post=post)
        _stamp_and_publish(post, jam)
        _audit(
            jam=jam,
            actor=actor,
            action=action,
            before=before,
            after=_state(post),
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
    reason = _clean_reason(reason)

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
    from jamhost.audience.flags import flag_dismiss

    with transaction.atomic():
        outcome = _post_action(
            jam=jam, actor=actor, post_id=post_id, action=action, change=change, done=done, key=key
        )
        if outcome.changed:
            post, _ = flag_dismiss(post_id=post_id, actor=actor, jam_id=jam.pk)
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


# Authors -----------------------------------------------------------------------------


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
    reason = _clean_reason(reason)
    with transaction.atomic():
        _check_moderator(actor, jam)
        jam = jam_lock(jam)
        entry = _already_applied(jam, key)
        if entry is not None:
            return _resent(entry)
        check_not_archived(jam)
        sample = _author_sample(jam, author_key)
        if author_key == app_author_key(jam.host_id) or sample.author_role == AuthorRole.HOST:
            raise ValidationError("The host cannot be blocked in their own jam.")
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
            _stamp_and_publish(post, jam)
        _audit(
            jam=jam,
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
    from jamhost.posts.services import status_for_new_post

    with transaction.atomic():
        _check_moderator(actor, jam)
        jam = jam_lock(jam)
        entry = _already_applied(jam, key)
        if entry is not None:
            return _resent(entry)
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
            _stamp_and_publish(post, jam)
        _audit(
            jam=jam,
            actor=actor,
            action=ModerationAction.UNBLOCK,
            before={"blocked": True},
            after={"blocked": False, "restored_posts": [p.seq for p in posts]},
            author_key=author_key,
            author_handle=handle,
            key=key,
        )
    return Outcome(f"@{handle} is unblocked; {len(posts)} post(s) back.", changed=True)


# The jam's rules ---------------------------------------------------------------------


def muted_words_normalize(words: str) -> str:
    """One word or phrase per line, trimmed, without blanks or repeats (case-insensitive)."""
    seen: set[str] = set()
    lines: list[str] = []
    for line in (words or "").splitlines():
        word = " ".join(line.split())
        if word and word.lower() not in seen:
            seen.add(word.lower())
            lines.append(word)
    return "\n".join(lines)


def jam_set_muted_words(
    *,
    jam: Jam,
    actor: Any,
    words: str,
    expected: str | None = None,
    key: str | None = None,
) -> Outcome:
    """Replace the jam's muted words (a new post containing one arrives pending).

    `expected` is the list the moderator started editing from: when another moderator
    changed it meanwhile the save is refused instead of silently dropping their words.
    """
    new = muted_words_normalize(words)
    lines = new.splitlines()
    if len(lines) > MAX_MUTED_WORDS:
        raise ValidationError(f"Keep the list to {MAX_MUTED_WORDS} words or phrases.")
    too_long = [w for w in lines if len(w) > MAX_MUTED_WORD_CHARS]
    if too_long:
        raise ValidationError(
            f"Keep each muted word or phrase to {MAX_MUTED_WORD_CHARS} characters "
            f"(“{too_long[0][:20]}…” is longer)."
        )
    with transaction.atomic():
        _check_moderator(actor, jam)
        jam = jam_lock(jam)
        entry = _already_applied(jam, key)
        if entry is not None:
            return _resent(entry)
        current = muted_words_normalize(jam.muted_words)
        if expected is not None and muted_words_normalize(expected) != current:
            raise ValidationError(
                "Another moderator changed the muted words while you were editing. "
                f"The list is now: {', '.join(current.splitlines()) or '(empty)'}. "
                "Reload, merge your words in and save again."
            )
        if new == current:
            return Outcome("The muted words are unchanged.", changed=False)
        jam.muted_words = new
        # The header does not show muted words, but stamping it is what tells every
        # console (its settings and audit panels) that the rules changed.
        _, jam.rev = jam_next_rev(jam_id=jam.pk, header_changed=True)
        jam.header_rev = jam.rev
        jam.save(update_fields=["muted_words", "updated_at"])
        jam_changed_on_commit(jam)
        _audit(
            jam=jam,
            actor=actor,
            action=ModerationAction.MUTED_WORDS,
            before={"muted_words": current.splitlines()},
            after={"muted_words": lines},
            key=key,
        )
    return Outcome(f"Muted words saved ({len(lines)}).", changed=True)


def jam_switch_moderation_mode(
    *, jam: Jam, actor: Any, mode: str, key: str | None = None
) -> Outcome:
    """Switch between post- and pre-moderation during the jam (the host, or staff).
    Posts already in the stream keep their status; the mode decides new posts."""
    from jamhost.jams.services import jam_set_moderation_mode

    if not can_edit(user=actor, jam=jam):
        raise PermissionDenied("Only the jam's host can switch the moderation mode.")
    if mode not in ModerationMode.values:
        raise ValidationError("Choose post-moderation or pre-moderation.")
    with transaction.atomic():
        locked = jam_lock(jam)
        entry = _already_applied(locked, key)
        if entry is not None:
            return _resent(entry)
        before = locked.moderation_mode
        if before == mode:
            return Outcome(f"The jam is already in {locked.get_moderation_mode_display()}.", False)
        updated = jam_set_moderation_mode(jam=locked, mode=mode)
        _audit(
            jam=locked,
            actor=actor,
            action=ModerationAction.MODE,
            before={"moderation_mode": before},
            after={"moderation_mode": mode},
            key=key,
        )
    return Outcome(f"Switched to {updated.get_moderation_mode_display()}.", changed=True)
