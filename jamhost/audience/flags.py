"""Flags: any signed-in participant can flag a post once (spam, abuse, off-topic). When a
visible post's open flags reach the jam's threshold it goes to pending by itself, and the
audit log says so; a moderator can dismiss the flags, which brings a post that the flags
sent to pending back.

Like every change a screen shows, each one takes the jam's next rev for the post (jam row
first, then the post row) and is published after commit.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jamhost.audience.models import Flag, FlagReason
from jamhost.audience.rules import (
    action_budget,
    is_own,
    post_in_jam,
    require_live,
    require_not_blocked,
    require_signed_in,
)
from jamhost.core import events
from jamhost.jams.counters import jam_next_rev
from jamhost.jams.locks import jam_lock
from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_edit, can_moderate
from jamhost.live.publish import post_changed_on_commit
from jamhost.posts.models import Kind, ModerationAction, Post, PostStatus
from jamhost.posts.moderation import audit, check_not_archived

# status_reason of a post the flags sent to pending; dismissing the flags undoes exactly
# that, not a moderator's own decision.
FLAGGED_PREFIX = "flagged by "
# AuditEntry.action values for what the flags did.
AUDIT_FLAGGED = ModerationAction.FLAGGED
AUDIT_UNFLAGGED = ModerationAction.UNFLAGGED
# Shown as the actor of an automatic step: nobody pressed a button.
MAX_THRESHOLD = 1000


def _reasons(post: Post) -> Counter[str]:
    return Counter(
        Flag.objects.filter(post_id=post.pk, dismissed_at__isnull=True).values_list(
            "reason", flat=True
        )
    )


def reasons_text(reasons: Counter[str]) -> str:
    labels = dict(FlagReason.choices)
    return ", ".join(f"{labels.get(r, r).lower()} {n}" for r, n in reasons.most_common())


def _state(post: Post) -> dict[str, Any]:
    return {"status": post.status, "status_reason": post.status_reason, "flags": post.flags}


def _audit(
    *, post: Post, action: str, before: dict[str, Any], actor: Any = None, reason: str = ""
) -> None:
    audit(
        jam_id=post.jam_id,
        post=post,
        actor=actor,
        action=action,
        before=before,
        after=_state(post),
        reason=reason[:200],
    )


def flag_add(
    *, post_id: int, user: Any, reason: str, jam_id: int | None = None
) -> tuple[Post, bool]:
    """Flag a post for the moderators, once per person. Returns (post, changed); flagging
    a post again changes nothing. A visible post whose open flags reach the jam's
    `flag_threshold` (0 = never) goes to pending, with an audit entry.

    Raises PermissionDenied (not signed in, blocked) or ValidationError (unknown reason,
    own post, hidden post, jam not live, too many flags at once — code "throttled")."""
    require_signed_in(user, "flag posts")
    if reason not in FlagReason.values:
        raise ValidationError("Pick why you flag this post: spam, abuse or off-topic.")
    post = post_in_jam(post_id=post_id, jam_id=jam_id)
    require_live(post.jam, "flag posts")
    require_not_blocked(post.jam, user)
    if post.kind != Kind.POST:
        raise ValidationError("A question the host released cannot be flagged.")
    if is_own(post, user):
        raise ValidationError("This is your own post. Flags are for other people's posts.")
    if post.status == PostStatus.HIDDEN:
        raise ValidationError("The moderators have already hidden this post.")
    budget = action_budget(
        user, kind="flag", per_minute=settings.AUDIENCE_FLAGS_PER_MINUTE, what="flags"
    )
    with budget, transaction.atomic():
        if Flag.objects.filter(post_id=post.pk, user_id=user.pk).exists():
            return post, False
        try:
            with transaction.atomic():
                Flag.objects.create(
                    post_id=post.pk, user_id=user.pk, reason=reason, created_at=timezone.now()
                )
        except IntegrityError:  # the same flag, sent twice at once
            return post, False
        _, rev = jam_next_rev(jam_id=post.jam_id)
        threshold = Jam.objects.values_list("flag_threshold", flat=True).get(pk=post.jam_id)
        locked = (
            Post.objects.select_for_update(of=("self",)).select_related("question").get(pk=post.pk)
        )
        before = _state(locked)
        reasons = _reasons(locked)
        locked.flags = sum(reasons.values())
        pending = (
            threshold > 0 and locked.flags >= threshold and locked.status == PostStatus.VISIBLE
        )
        if pending:
            locked.status = PostStatus.PENDING
            locked.status_reason = f"{FLAGGED_PREFIX}{locked.flags} ({reasons_text(reasons)})"
        locked.rev = rev
        locked.save(update_fields=["flags", "status", "status_reason", "rev", "updated_at"])
        if pending:
            _audit(
                post=locked,
                action=AUDIT_FLAGGED,
                before=before,
                reason=f"{locked.flags} flags reached the jam's threshold of {threshold}",
            )
        post_changed_on_commit(locked)
    return locked, True


def flag_dismiss(*, post_id: int, actor: Any, jam_id: int | None = None) -> tuple[Post, bool]:
    """A moderator dismisses a post's open flags: its count goes to 0 and, when the flags
    had sent it to pending, it is visible again. Returns (post, changed); an audit entry
    records each dismissal. Raises PermissionDenied for anyone who may not moderate."""
    require_signed_in(actor, "dismiss flags")
    post = post_in_jam(post_id=post_id, jam_id=jam_id)
    if not can_moderate(user=actor, jam=post.jam):
        raise PermissionDenied("Only the jam's host and moderators can dismiss flags.")
    with transaction.atomic():
        check_not_archived(jam_lock(post.jam))
        open_flags = Flag.objects.filter(post_id=post.pk, dismissed_at__isnull=True)
        if post.flags == 0 and not open_flags.exists():
            return post, False
        # Once a rev is taken the post is saved with it, even if another moderator got
        # here first: a rev that no post carries would make every hub wait for it.
        _, rev = jam_next_rev(jam_id=post.jam_id)
        locked = (
            Post.objects.select_for_update(of=("self",)).select_related("question").get(pk=post.pk)
        )
        before = _state(locked)
        open_flags.update(dismissed_at=timezone.now(), dismissed_by=actor)
        locked.flags = 0
        if locked.status == PostStatus.PENDING and locked.status_reason.startswith(FLAGGED_PREFIX):
            locked.status, locked.status_reason = PostStatus.VISIBLE, ""
        locked.rev = rev
        locked.save(update_fields=["flags", "status", "status_reason", "rev", "updated_at"])
        post_changed_on_commit(locked)
        if before == _state(locked):
            return locked, False
        _audit(post=locked, action=AUDIT_UNFLAGGED, before=before, actor=actor)
    return locked, True


def flags_forget_user(*, user_id: int) -> list[Post]:
    """Delete every flag the user raised (their account is going) and store the new open
    count of each post one of them was open on, with a new rev, published after commit.
    A post the flags already held back stays pending: that is now the moderators' call.
    Returns the recounted posts, in jam then seq order (the order their jam rows are
    locked in)."""
    with transaction.atomic():
        posts = list(
            Post.objects.filter(flag_set__user_id=user_id, flag_set__dismissed_at__isnull=True)
            .distinct()
            .order_by("jam_id", "seq")
        )
        Flag.objects.filter(user_id=user_id).delete()
        recounted = []
        for post in posts:
            _, rev = jam_next_rev(jam_id=post.jam_id)
            locked = (
                Post.objects.select_for_update(of=("self",))
                .select_related("question")
                .get(pk=post.pk)
            )
            locked.flags = sum(_reasons(locked).values())
            locked.rev = rev
            locked.save(update_fields=["flags", "rev", "updated_at"])
            post_changed_on_commit(locked)
            recounted.append(locked)
        return recounted


def jam_set_flag_threshold(*, jam: Jam, actor: Any, threshold: int | str) -> Jam:
    """The host sets how many open flags send a post to pending (0: never)."""
    if not can_edit(user=actor, jam=jam):
        raise PermissionDenied("Only the jam's host can set the flag threshold.")
    try:
        value = int(str(threshold).strip())
    except ValueError:
        raise ValidationError("Give the flag threshold as a whole number, such as 3.") from None
    if not 0 <= value <= MAX_THRESHOLD:
        raise ValidationError(
            f"Give a flag threshold from 0 (never automatically) to {MAX_THRESHOLD}."
        )
    with transaction.atomic():
        Jam.objects.filter(pk=jam.pk).update(flag_threshold=value, updated_at=timezone.now())
    jam.flag_threshold = value
    return jam


def on_post_shown(event: events.PostShown) -> Post:
    """A moderator showed the post (posts.post_moderation): that answers its open flags."""
    post, _ = flag_dismiss(post_id=event.post_id, actor=event.actor, jam_id=event.jam_id)
    return post
