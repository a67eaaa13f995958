"""A poll's lease on its ingest cursor, for X's (IngestCursor) and the other networks'
(NetworkCursor): one poll at a time per cursor, none while the network has paused us, and
a lease that ran out (a poll killed half-way) taken over, resuming from the cursor."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from django.db import models, transaction
from django.utils import timezone

log = logging.getLogger(__name__)

C = TypeVar("C", bound=models.Model)


class PollOutcome(Protocol):
    error: str
    paused_until: datetime | None


def lease_end(now: datetime, seconds: float) -> datetime:
    return max(now, timezone.now()) + timedelta(seconds=seconds)


def cursor_lease(
    model: type[C],
    *,
    now: datetime,
    seconds: float,
    result: PollOutcome,
    what: str,
    **lookup: Any,
) -> C | None:
    """The cursor found by `lookup` (made when missing), leased to this poll until `seconds`
    from now; None, with the reason in `result`, when another poll holds it or it is
    paused. `what` names the cursor in the log ("jam 7", "route 3")."""
    with transaction.atomic():
        cursor: Any
        cursor, _ = model._default_manager.select_for_update().get_or_create(**lookup)
        if cursor.lease_until and cursor.lease_until > now:
            result.error = "another poll is running"
            return None
        if cursor.paused_until and cursor.paused_until > now:
            result.paused_until = cursor.paused_until
            return None
        if cursor.lease_until is not None:
            log.warning(
                "%s ingest: taking over the lease of a poll that stopped without finishing "
                "(it ran out at %s); resuming from its cursor",
                what,
                cursor.lease_until.isoformat(),
            )
        cursor.lease_until = lease_end(now, seconds)
        cursor.save(update_fields=["lease_until"])
    return cursor
