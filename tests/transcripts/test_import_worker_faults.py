"""A real Celery worker killed with SIGKILL in the middle of writing an import: the message
comes back (acks_late + reject_on_worker_lost) and the rerun imports the file once; cut
off twice, the job ends "failed" with the reason instead of being retried for ever.
Either way nothing is half-written and the upload is deleted."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jamhost.celery import app
from jamhost.jams.models import Jam
from jamhost.transcripts.exports import CSV_COLUMNS
from jamhost.transcripts.models import ImportChunk, ImportJob, ImportStatus
from jamhost.transcripts.uploads import upload_store
from tests.factories import UserFactory
from tests.transcripts.test_worker_faults import pool_child, wait_for, worker  # noqa: F401

pytestmark = [
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]
POSTS = 30_000


def big_csv(tag: str) -> bytes:
    rows = [",".join(CSV_COLUMNS[:-1]), f"1,2026-03-01 18:00:00,,host,,host,Q1: Go? #{tag},,,,"]
    rows += [
        f"{n},2026-03-01 18:{n * 59 // POSTS:02d}:00,Q1,person{n % 500},,,A1: answer {n} #{tag},,,,"
        for n in range(2, POSTS + 1)
    ]
    return ("\n".join(rows) + "\n").encode()


def stored_job(tag: str) -> ImportJob:
    """An upload stored as the upload form stores it, its task not yet sent."""
    payload = big_csv(tag)
    job = ImportJob.objects.create(
        owner=UserFactory(), filename=f"{tag}.csv", file_format="csv", size=len(payload)
    )
    upload_store(job_id=job.pk, chunks=[payload], limit=len(payload))
    return job


def kill_while_writing(proc: subprocess.Popen[bytes], job: ImportJob, attempt: int) -> None:
    wait_for(
        f"run {attempt} to start writing",
        lambda: ImportJob.objects.filter(
            pk=job.pk, status=ImportStatus.WRITING, attempts=attempt
        ).exists(),
        timeout=120,
    )
    os.kill(pool_child(proc.pid), signal.SIGKILL)


def test_an_import_cut_off_once_is_run_again_and_twice_ends_failed(
    worker: tuple[subprocess.Popen[bytes], str, Path],  # noqa: F811
) -> None:
    proc, queue, log = worker
    once, twice = stored_job("CutOnce"), stored_job("CutTwice")

    app.send_task("jamhost.transcripts.tasks.import_transcript", args=[once.pk], queue=queue)
    kill_while_writing(proc, once, attempt=1)
    done = wait_for(
        "the rerun to import the file",
        lambda: ImportJob.objects.filter(pk=once.pk, status=ImportStatus.DONE).first(),
        timeout=150,
    )
    assert done.attempts == 2 and done.jam is not None
    assert done.jam.posts.count() == POSTS
    assert Jam.objects.filter(hashtag="CutOnce").count() == 1  # the killed run left nothing

    app.send_task("jamhost.transcripts.tasks.import_transcript", args=[twice.pk], queue=queue)
    kill_while_writing(proc, twice, attempt=1)
    kill_while_writing(proc, twice, attempt=2)
    failed: Any = wait_for(
        "the third delivery to give up",
        lambda: ImportJob.objects.filter(pk=twice.pk, status=ImportStatus.FAILED).first(),
        timeout=60,
    )
    assert "cut off twice" in failed.errors[0]
    assert not Jam.objects.filter(hashtag="CutTwice").exists()
    assert not ImportChunk.objects.filter(job_id__in=[once.pk, twice.pk]).exists()
    assert log.read_text().count("WorkerLostError") >= 3
