"""X's wire conventions that the server's state and its handler share: faults, times,
escaped text and problem bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class Fault:
    """One answer out of the ordinary. Kinds: "429", "500", "503", "malformed" (not JSON),
    "slow" (served after `delay` s), "drop" (the connection closes unanswered), "raw" (any
    status, headers and body), and for POST /2/tweets "slow_after_create",
    "drop_after_create", "503_after_create" (the post IS created, then the answer comes
    too late, never, or as a 503)."""

    kind: str
    delay: float = 0.0
    reset_in: int = 60
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    skip: int = 0  # let this many matching requests through first

    @property
    def after_create(self) -> bool:
        return self.kind.endswith("_after_create")


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_iso(raw: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def x_escape(text: str) -> str:
    """Post text as X's API sends it: &, < and > escaped, nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def problem(status: int, title: str, detail: str, kind: str = "invalid-request") -> Any:
    return {
        "errors": [{"message": detail, "parameters": {}}],
        "title": title,
        "detail": detail,
        "type": f"https://api.x.com/2/problems/{kind}",
        "status": status,
    }
