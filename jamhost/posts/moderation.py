"""Moderation's shared steps: the rule that decides whether a new post's author is
blocked, and what every moderation action does (post_moderation: actions on posts;
author_moderation: blocking authors; jam_rules: muted words and the moderation mode).

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

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from jamhost.core import events
from jamhost.jams.counters import jam_next_rev
from jamhost.jams.models import Jam, JamStatus
from jamhost.jams.permissions import can_moderate
from jamhost.posts.models import AuditEntry, Block, Post
from jamhost.prepared import Prepared, integer, text

# The reason status_for_new_post gives a blocked author's post; unblocking restores
# exactly the posts hidden for this reason, not ones a moderator hid by hand.
BLOCKED_REASON = "author blocked"
MAX_REASON_CHARS = 200
# The actor_handle of what jamhost did by itself (a post sent to pending by its flags).
SYSTEM_ACTOR = "jamhost"

STATE_FIELDS = ("status", "status_reason", "pinned", "featured", "answered")


@dataclass(frozen=True)
class Outcome:
    """What an action did. `changed` is False when there was nothing left to do (another
    moderator got there first, or the same action was resent)."""

    message: str
    changed: bool
    post: Post | None = None


_BLOCK: Prepared[Block] = Prepared(
    lambda jam_id, key: Block.objects.filter(jam_id=jam_id, author_key=key).values_list("id")[:1],
    integer(0),
    text(1),
)


def author_is_blocked(*, jam: Jam, author_key: str) -> bool:
    """True when the author is blocked in this jam (read on every new post: compiled once,
    jamhost.prepared)."""
    return _BLOCK.row(jam.pk, author_key) is not None


# Shared steps ------------------------------------------------------------------------


def check_moderator(actor: Any, jam: Jam) -> None:
    if not can_moderate(user=actor, jam=jam):
        raise PermissionDenied(
            "You are not a moderator of this jam (any more), so you cannot moderate it."
        )


def check_not_archived(jam: Jam) -> None:
    # Called on the locked row: archiving takes the same lock, so an action either lands
    # before the snapshot (and is in it) or is refused here.
    if jam.status == JamStatus.ARCHIVED:
        raise ValidationError(
            "This jam is archived; its transcript is final. Its posts and authors can no "
            "longer be moderated (an ended jam can be, until it is archived)."
        )


def already_applied(jam: Jam, key: str | None) -> AuditEntry | None:
    if not key:
        return None
    return AuditEntry.objects.filter(jam_id=jam.pk, key=key).select_related("post").first()


def resent(entry: AuditEntry) -> Outcome:
    return Outcome(
        f"Already done: @{entry.actor_handle} {entry.get_action_display()} this at "
        f"{entry.created_at:%H:%M:%S} UTC.",
        changed=False,
        post=entry.post,
    )


def post_state(post: Post) -> dict[str, Any]:
    return {field: getattr(post, field) for field in STATE_FIELDS}


def clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > MAX_REASON_CHARS:
        raise ValidationError(
            f"Keep the reason to {MAX_REASON_CHARS} characters (this one has {len(reason)})."
        )
    return reason


def audit(
    *,
    jam_id: int,
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
    """The one way a moderation change is recorded: who (None: jamhost itself, as when
    flags send a post to pending), what, when, the state before and after, and why."""
    return AuditEntry.objects.create(
        jam_id=jam_id,
        post=post,
        author_key=author_key or (post.author_key if post else ""),
        author_handle=author_handle or (post.author_handle if post else ""),
        actor=actor,
        actor_handle=actor.get_username() if actor is not None else SYSTEM_ACTOR,
        action=action,
        before=before,
        after=after,
        reason=reason,
        key=key or None,
        created_at=timezone.now(),
    )


def stamp_and_publish(post: Post, jam: Jam) -> None:
    # The one place a moderation action changes a post: one held back from X until it
    # was shown goes out now (a pending post approved, a hidden one restored).
    events.send(events.PostModerated(post=post))
    _, post.rev = jam_next_rev(jam_id=jam.pk)
    post.save(update_fields=[*STATE_FIELDS, "rev", "updated_at"])
    events.send_on_commit(events.PostChanged(post=post, rev=post.rev))
