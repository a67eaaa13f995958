"""A real Celery worker killed with SIGKILL in the middle of an archive: the message comes
back (acks_late + reject_on_worker_lost), the rerun completes, and the transcript is the
one a clean run stores: one version, the same hash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from jamhost.celery import app
from jamhost.jams.models import Jam, JamStatus
from jamhost.transcripts.models import SearchDocument, Transcript
from jamhost.transcripts.snapshot import content_hash, snapshot_build, snapshot_encode
from tests.transcripts.conftest import build_jam

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.faults,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
    # Tests run Celery eagerly; send_task goes to the broker anyway, which is the point.
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def dsn() -> str:
    db = connection.settings_dict
    return (
        f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    if connection.vendor != "postgresql":
        pytest.fail("the worker fault test needs PostgreSQL (DATABASE_URL)")
    queue = f"jh-tr-faults-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CELERY_EAGER"))}
    env.update(
        DATABASE_URL=dsn().replace("postgresql://", "postgres://"),
        REDIS_URL=settings.REDIS_URL,
        CHANNEL_PREFIX=f"{settings.CHANNEL_PREFIX}-worker",
        DEBUG="true",
        LOG_LEVEL="INFO",
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "jamhost", "worker",
                "--pool=prefork", "--concurrency=1", "-Q", queue, "--loglevel=INFO",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_for("the worker to start", lambda: b"ready." in log.read_bytes(), timeout=90)
        yield proc, queue, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        _sessions_gone()
        with app.connection_for_write() as conn:
            for name in (queue, "celery"):  # the worker enqueues the rendering on "celery"
                conn.default_channel.queue_purge(name)


def _sessions_gone() -> None:
    """Wait for the worker's database sessions on the test database to end (a backend
    exits a moment after its client), so the test database can be dropped; end any left."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        ours = cursor.fetchone()[0]  # this test process's own Django session stays
    with psycopg.connect(dsn(), autocommit=True) as watch:
        others = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            f"AND pid NOT IN (pg_backend_pid(), {int(ours)}) "
            "AND backend_type = 'client backend'"
        )
        try:
            wait_for(
                "the worker's sessions to end", lambda: not watch.execute(others).fetchall(), 15
            )
        except AssertionError:
            for (pid,) in watch.execute(others).fetchall():
                watch.execute("SELECT pg_terminate_backend(%s)", [pid])


def pool_child(pid: int) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def waiting_backend(watch: psycopg.Connection[Any], table: str, other_than: int = 0) -> int:
    """A database session waiting for a lock while writing to `table`, if any."""
    row = watch.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query ILIKE %s AND pid <> %s",
        [f"%{table}%", other_than],
    ).fetchone()
    return int(row[0]) if row else 0


def test_worker_killed_mid_archive_completes_on_redelivery_with_the_same_hash(
    worker: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    proc, queue, log = worker
    jam = build_jam()
    # build_jam ended the jam and (eagerly, here) archived it: start from "ended" again.
    Transcript.objects.filter(jam=jam).delete()
    Jam.objects.filter(pk=jam.pk).update(status=JamStatus.ENDED, archived_at=None)
    SearchDocument.objects.update_or_create(jam=jam, defaults={"body": ""})
    jam = Jam.objects.select_related("host").get(pk=jam.pk)
    expected = content_hash(snapshot_encode(snapshot_build(jam)))

    with (
        psycopg.connect(dsn()) as holder,
        psycopg.connect(dsn(), autocommit=True) as watch,
    ):
        # Hold the row the archive writes last: the worker stops there, with the jam row
        # locked and its transcript inserted but not committed.
        holder.execute(
            "SELECT id FROM transcripts_searchdocument WHERE jam_id = %s FOR UPDATE", [jam.pk]
        )
        app.send_task("jamhost.transcripts.tasks.archive_jam", args=[jam.pk], queue=queue)
        first = wait_for(
            "the archive to reach its last write",
            lambda: waiting_backend(watch, "transcripts_searchdocument"),
        )
        assert watch.execute(
            "SELECT count(*) FROM transcripts_transcript WHERE jam_id = %s", [jam.pk]
        ).fetchone() == (0,)

        child = pool_child(proc.pid)
        os.kill(child, signal.SIGKILL)
        # The message comes back and a new pool process runs the archive again. It waits
        # for the jam's row: the killed process's session still holds it, because that
        # session is itself waiting on our lock and has not noticed its client is gone.
        second = wait_for(
            "the archive to run again",
            lambda: waiting_backend(watch, "jams_jam", other_than=first),
        )
        assert pool_child(proc.pid) != child
        assert Jam.objects.get(pk=jam.pk).status == JamStatus.ENDED
        holder.commit()  # let it finish

    wait_for(
        "the jam to be archived",
        lambda: Jam.objects.get(pk=jam.pk).status == JamStatus.ARCHIVED,
    )
    transcripts = list(Transcript.objects.filter(jam=jam))
    assert [(t.version, t.content_hash) for t in transcripts] == [(1, expected)]
    assert content_hash(transcripts[0].content) == expected
    text = log.read_text()
    assert "WorkerLostError" in text and text.count("archive_jam[") >= 2, text[
        -3000:
    ]  # received twice
    assert second != first
