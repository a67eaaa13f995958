"""Import jobs always end: a lost task is failed by the sweep with its reason; imports
are limited per person; imports and archives have queues and workers of their own."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jamhost.celery import app
from jamhost.transcripts.exports import CSV_COLUMNS
from jamhost.transcripts.importer import ImportOptions, import_job_create, import_sweep
from jamhost.transcripts.models import ImportChunk, ImportJob, ImportStatus
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
CSV = (
    ",".join(CSV_COLUMNS[:-1])
    + "\n1,2026-03-01 18:00:00,,host,,host,Q1: Up? #UpJam,,,false,false\n"
).encode()


@pytest.fixture(autouse=True)
def _fresh_limits(settings: Any) -> None:
    settings.CACHES = {
        "default": {**django_settings.CACHES["default"], "KEY_PREFIX": f"t{uuid.uuid4().hex}"}
    }


def test_the_sweep_fails_a_job_whose_task_was_lost(
    db: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMPORT_STALL_SECONDS = 600
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=False):  # the task never runs
        queued = import_job_create(
            owner=user, filename="a.csv", chunks=[CSV], options=ImportOptions()
        )
        running = import_job_create(
            owner=user, filename="b.csv", chunks=[CSV], options=ImportOptions()
        )
    ImportJob.objects.filter(pk=running.pk).update(status=ImportStatus.CHECKING)
    assert import_sweep() == []  # nothing has stalled yet
    later = timezone.now() + timedelta(seconds=601)
    assert sorted(import_sweep(now=later)) == sorted([queued.pk, running.pk])
    queued.refresh_from_db()
    running.refresh_from_db()
    assert queued.status == running.status == ImportStatus.FAILED
    assert queued.errors[0].startswith("The import never started: no import worker took it")
    assert running.errors[0].startswith("The import stopped: nothing moved for 10 minutes")
    assert not ImportChunk.objects.exists()
    assert import_sweep(now=later) == []


def test_imports_are_limited_per_person(
    client: Any, db: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.RATE_IMPORT_USER = "2/3600"
    client.force_login(UserFactory(username="busy"))
    for n in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/import/", {"file": SimpleUploadedFile(f"{n}.csv", CSV)})
        assert response.status_code == 302
    refused = client.post("/import/", {"file": SimpleUploadedFile("3.csv", CSV)})
    assert refused.status_code == 429
    match = re.search(r"Too many imports for now: try again in (\d+) s", refused.content.decode())
    assert match and refused["Retry-After"] == match.group(1)
    assert ImportJob.objects.count() == 2
    # Someone else is not held back.
    client.force_login(UserFactory(username="other"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/import/", {"file": SimpleUploadedFile("4.csv", CSV)})
    assert response.status_code == 302


def test_unfinished_imports_per_person_are_capped(
    client: Any, db: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.IMPORT_MAX_ACTIVE = 1
    client.force_login(UserFactory(username="eager"))
    with django_capture_on_commit_callbacks(execute=False):  # still queued
        first = client.post("/import/", {"file": SimpleUploadedFile("a.csv", CSV)})
        second = client.post("/import/", {"file": SimpleUploadedFile("b.csv", CSV)})
    assert first.status_code == 302 and second.status_code == 200
    assert "You have 1 import under way; wait for one to finish" in second.content.decode()
    assert ImportJob.objects.count() == 1


def test_imports_and_archives_go_to_queues_of_their_own() -> None:
    def queue(task: str) -> str:
        return app.amqp.router.route({}, task)["queue"].name

    assert queue("jamhost.transcripts.tasks.import_transcript") == "imports"
    assert queue("jamhost.transcripts.tasks.archive_jam") == "archives"
    assert queue("jamhost.transcripts.tasks.render_transcript") == "celery"
    assert queue("jamhost.networks.tasks.publish_post") == "celery"
    # The Procfile runs a worker for each, and no worker that takes imports takes archives.
    consumers: dict[str, set[str]] = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if " worker" in command:
            found = re.search(r"-Q\s+(\S+)", command)
            assert found, f"{name} consumes no named queues"
            consumers[name] = set(found.group(1).split(","))
    assert any({"celery", "archives"} <= queues for queues in consumers.values()), consumers
    assert any("imports" in queues for queues in consumers.values()), consumers
    assert not any({"imports", "archives"} <= queues for queues in consumers.values())
