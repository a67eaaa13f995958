"""What polls add to the apps below it, through jamhost.core.hooks: their frames in live
catch-up, their results in the transcript snapshot, X's `poll` field when the post that
carries a poll goes to X."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jamhost.core import hooks
from jamhost.polls.live import poll_parts
from jamhost.polls.models import Poll, PollState
from jamhost.polls.x_polls import poll_x_fields


def polls_snapshot(jam: Any) -> dict[str, Any]:
    """The jam's opened polls for its transcript, in the order they opened (no clock, no
    rev: the same rows give the same bytes)."""
    polls = (
        Poll.objects.filter(jam_id=jam.pk)
        .exclude(state=PollState.WAITING)
        .prefetch_related("options")
        .order_by("opened_at", "pk")
    )
    entries = []
    for poll in polls:
        entry: dict[str, Any] = {
            "text": poll.text,
            "opened_at": _iso(poll.opened_at),
            "closes_at": _iso(poll.closes_at),
            "votes": poll.votes,
            "options": [
                {"position": o.position, "label": o.text, "votes": o.votes}
                for o in poll.options.all()
            ],
        }
        if poll.x_results:
            x_options = poll.x_results.get("options", [])
            entry["x"] = {
                "options": x_options,
                "votes": sum(int(option.get("votes", 0)) for option in x_options),
                "posts_read": poll.x_reads,
            }
        entries.append(entry)
    return {"polls": entries} if entries else {}


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the snapshot writes every time."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def register() -> None:
    if poll_parts not in hooks.live_parts:
        hooks.live_parts.append(poll_parts)
        hooks.snapshot_parts.append(polls_snapshot)
        hooks.x_create_fields.append(poll_x_fields)
