"""Moderation rules that decide what a new post looks like. The moderation actions
(hide, approve, pin, block …) are services that change posts after they arrive."""

from __future__ import annotations

from jamhost.jams.models import Jam


def author_is_blocked(*, jam: Jam, author_key: str) -> bool:
    """True when the author is blocked in this jam (blocks arrive with the console)."""
    return False
