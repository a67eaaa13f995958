"""The periodic sweep over database state: opens and closes jams, releases due questions.

Run every few seconds by Celery beat in production and by the server's own event loop in
the embedded default. It is idempotent: running it twice at once, or after a restart,
releases each question once (the services lock the jam row and re-check).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from jamhost import metrics
from jamhost.jams.lifecycle import jam_end, jam_go_live
from jamhost.jams.models import Jam, JamStatus
from jamhost.jams.run_sheet import question_release

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    opened: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)


@metrics.timed_sweep("jams")
def jams_sweep(*, now: datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    for jam in Jam.objects.filter(status=JamStatus.SCHEDULED, starts_at__lte=now):
        jam_go_live(jam=jam, now=now)
        result.opened.append(jam.pk)
    for jam in Jam.objects.filter(status=JamStatus.LIVE).prefetch_related("questions"):
        due = [q for q in jam.questions.all() if not q.is_released and q.release_at <= now]
        for question in sorted(due, key=lambda q: q.number):
            try:
                question_release(question=question, now=now)
            except ValidationError as exc:  # the jam ended between the query and the lock
                log.info("not releasing Q%s of jam %s: %s", question.number, jam.pk, exc)
                continue
            result.released.append(question.pk)
        if jam.ends_at <= now:
            jam_end(jam=jam, now=now)
            result.ended.append(jam.pk)
    return result
