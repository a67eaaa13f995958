"""Polls in the jam's audit log, beside the moderation actions: a poll added to or taken
off the run-sheet, launched on the spot, closed early, sent to X. Each entry is written by
posts.moderation's audit helper inside the transaction that made the change, so the log
holds exactly the changes that happened.

The poll's question is kept in both `before` and `after` under "poll": it names what was
acted on (the console shows it as it shows a post's seq) and is never listed as a change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jamhost.polls.models import Poll
from jamhost.posts.models import AuditEntry, ModerationAction
from jamhost.posts.moderation import audit


def _at(moment: datetime | None) -> str | None:
    return f"{moment:%H:%M:%S} UTC" if moment is not None else None


def _options(poll: Poll) -> list[str]:
    return list(poll.options.order_by("position").values_list("text", flat=True))


def _entry(
    poll: Poll,
    *,
    actor: Any,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str = "",
) -> AuditEntry:
    return audit(
        jam_id=poll.jam_id,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        before={"poll": poll.text, **before},
        after={"poll": poll.text, **after},
        post=poll.x_post if action == ModerationAction.POLL_X else None,
        reason=reason,
    )


def poll_audit_add(poll: Poll, *, actor: Any) -> AuditEntry:
    return _entry(
        poll,
        actor=actor,
        action=ModerationAction.POLL_ADD,
        before={},
        after={
            "options": _options(poll),
            "opens": f"{poll.offset_minutes} min after the start",
            "open for": f"{poll.open_minutes} min",
            "on X": poll.on_x,
        },
    )


def poll_audit_remove(poll: Poll, *, actor: Any) -> AuditEntry:
    return _entry(
        poll,
        actor=actor,
        action=ModerationAction.POLL_REMOVE,
        before={"state": "on the run-sheet"},
        after={"state": "taken off"},
    )


def poll_audit_launch(poll: Poll, *, actor: Any) -> AuditEntry:
    return _entry(
        poll,
        actor=actor,
        action=ModerationAction.POLL_LAUNCH,
        before={},
        after={
            "options": _options(poll),
            "closes": _at(poll.closes_at),
            "on X": poll.on_x,
        },
    )


def poll_audit_close(poll: Poll, *, actor: Any, was_closing_at: datetime | None) -> AuditEntry:
    return _entry(
        poll,
        actor=actor,
        action=ModerationAction.POLL_CLOSE,
        before={"state": "open", "closes": _at(was_closing_at)},
        after={"state": "closed", "closes": _at(poll.closed_at), "votes": poll.votes},
    )


def poll_audit_x(poll: Poll, *, actor: Any) -> AuditEntry:
    """The poll's post queued for X from the host's account (actor None: the sweep opened
    a run-sheet poll, so jamhost itself sent it)."""
    return _entry(
        poll,
        actor=actor,
        action=ModerationAction.POLL_X,
        before={"on X": ""},
        after={"on X": poll.get_x_state_display()},
        reason=poll.x_error,
    )
