"""Archive and import tasks. Thin: they take ids and call the transcripts services.

Archives and imports go to queues of their own (ARCHIVE_QUEUE, IMPORT_QUEUE; see
jamhost.celery), consumed by separate workers, so a long import never delays an archive.

archive_jam acknowledges its message only after it finishes (acks_late) and gives the
message back if the worker process dies mid-run (reject_on_worker_lost), so a killed
worker's archive runs again; the service is idempotent, so the rerun stores the same
snapshot with the same hash.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from jamhost import metrics
from jamhost.core import events
from jamhost.jams.models import Jam
from jamhost.transcripts.importer import import_job_run, import_sweep
from jamhost.transcripts.selectors import jams_awaiting_archive, jams_with_outdated_transcripts
from jamhost.transcripts.services import jam_archive, transcript_render

log = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def archive_jam(jam_id: int) -> None:
    try:
        transcript = jam_archive(jam_id=jam_id)
    except Jam.DoesNotExist:
        log.info("jam %s is gone; nothing to archive", jam_id)
        return
    except ValidationError as exc:
        log.info("not archiving jam %s: %s", jam_id, " ".join(exc.messages))
        return
    log.info("jam %s archived: transcript v%s", jam_id, transcript.version)


@shared_task(ignore_result=True)
@metrics.timed_sweep("archive")
def archive_sweep() -> None:
    """Re-enqueue every ended jam not yet archived (its first task was lost or failed),
    and every archived jam whose transcript a later change outdated: an account deletion
    (whose task was lost or failed), or posts that changed after the archive (ingested
    after the end, edited, published to a network), once its latest transcript is
    TRANSCRIPT_REFRESH_MINUTES old. A grace period leaves the task enqueued at the end
    time to do its work first."""
    ended_before = timezone.now() - timedelta(seconds=settings.ARCHIVE_SWEEP_GRACE)
    for jam_id in jams_awaiting_archive(ended_before=ended_before):
        archive_jam.delay(jam_id)
    made_before = timezone.now() - timedelta(minutes=settings.TRANSCRIPT_REFRESH_MINUTES)
    for jam_id in jams_with_outdated_transcripts(made_before=made_before):
        archive_jam.delay(jam_id)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def render_transcript(transcript_id: int) -> None:
    """Render a new transcript version's replay posts once, so readers never wait for it."""
    transcript_render(transcript_id=transcript_id)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def import_transcript(job_id: int) -> None:
    import_job_run(job_id=job_id)


@shared_task(ignore_result=True)
@metrics.timed_sweep("import")
def import_sweep_task() -> None:
    """Fail imports whose task was lost, so none shows "Queued" forever."""
    import_sweep()


def archive_enqueue(event: events.JamEnded) -> None:
    """A jam ended (jams.lifecycle.jam_end, after commit): archive it on a worker."""
    archive_jam.delay(event.jam_id)
