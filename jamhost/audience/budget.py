"""A small per-user limiter for audience actions: at most `limit` actions of a kind per
window. It is a row per (user, kind) locked inside the caller's transaction, so every web
process shares the budget and two requests of one user are counted one after the other."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jamhost.audience.models import ActionBudget


def budget_take(
    *,
    user_id: int,
    kind: str,
    limit: int,
    window_seconds: int,
    what: str,
    now: datetime | None = None,
) -> None:
    """Count one action, or raise ValidationError(code="throttled") saying when to try again.

    Must run inside transaction.atomic(): the count is taken only if the caller commits,
    so an action refused for another reason does not use up the budget.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("budget_take must run inside transaction.atomic()")
    now = now or timezone.now()
    budget = ActionBudget.objects.select_for_update().filter(user_id=user_id, kind=kind).first()
    if budget is None:
        try:
            with transaction.atomic():
                budget = ActionBudget.objects.create(
                    user_id=user_id, kind=kind, window_started_at=now, used=0
                )
        except IntegrityError:  # the same user's other request created it a moment ago
            budget = ActionBudget.objects.select_for_update().get(user_id=user_id, kind=kind)
    window = timedelta(seconds=window_seconds)
    if now - budget.window_started_at >= window:
        budget.window_started_at, budget.used = now, 0
    if budget.used >= limit:
        wait = math.ceil((budget.window_started_at + window - now).total_seconds())
        raise ValidationError(
            f"That is a lot of {what} at once ({limit} per {window_seconds} s). "
            f"Try again in {max(wait, 1)} s.",
            code="throttled",
        )
    budget.used += 1
    budget.save(update_fields=["window_started_at", "used"])
