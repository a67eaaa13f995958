"""Transcript archiving task (the archive itself arrives with the transcripts work)."""

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def archive_jam(jam_id: int) -> None:
    log.info("archive requested for jam %s", jam_id)
