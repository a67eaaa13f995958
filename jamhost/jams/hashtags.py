"""Hashtag rules, as X applies them, and the reservation of a tag for a jam's window."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError

from jamhost.jams.models import run_window

MAX_LENGTH = 100
_VALID = re.compile(r"^\w+$")


def hashtag_key(tag: str) -> str:
    """The form tags are compared in: without '#', case-insensitive."""
    return tag.strip().lstrip("#").lower()


def hashtag_clean(tag: str) -> str:
    """Return the tag without its '#', or raise ValidationError saying what is wrong."""
    cleaned = tag.strip()
    if cleaned.startswith("#"):
        cleaned = cleaned[1:]
    if not cleaned:
        raise ValidationError("Enter a hashtag, such as #PodcastChat.", code="empty")
    if len(cleaned) > MAX_LENGTH:
        raise ValidationError(
            f"A hashtag can be at most {MAX_LENGTH} characters; this one has {len(cleaned)}.",
            code="too_long",
        )
    if not _VALID.match(cleaned):
        raise ValidationError(
            "A hashtag may only contain letters, digits and underscores (no spaces, "
            "punctuation or a second #).",
            code="invalid_characters",
        )
    if cleaned.isdigit():
        raise ValidationError(
            "A hashtag cannot be only digits: X does not link it. Add a letter.",
            code="only_digits",
        )
    return cleaned


def reservation_window(
    starts_at: datetime,
    duration_minutes: int,
    *,
    went_live_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> tuple[datetime, datetime]:
    """Where a jam holds its tag: its run plus the margin either side. Once it has gone
    live or ended, the real run (models.run_window): a jam ended early frees its tag from
    its real end plus the margin; an extended one holds it to its new end."""
    start, end = run_window(starts_at, duration_minutes, went_live_at, ended_at)
    margin = timedelta(minutes=settings.HASHTAG_MARGIN_MINUTES)
    return start - margin, end + margin


def reservation_lock_id(key: str) -> int:
    """A signed 64-bit number for the folded tag `key`: the id of its reservation lock."""
    return int.from_bytes(
        hashlib.sha256(b"jamhost-tag:" + key.encode()).digest()[:8], "big", signed=True
    )
