"""A real Celery worker process for the networks tests that kill one mid-call."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.db import connections

from jamhost.celery import app as celery_app
from tests.networks.conftest import APP_BEARER, CLIENT_ID

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def celery_worker(settings: Any, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """A worker on the test database and Redis, talking to the X-compatible server the
    test started; tasks sent meanwhile go to it (not run eagerly). Killed at the end."""
    db = connections["default"].settings_dict
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "jamhost", "worker", "--pool=solo", "-l", "info"],
        cwd=ROOT,
        env={
            **os.environ,
            "DEBUG": "true",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": django_settings.REDIS_URL,
            "X_API_BASE_URL": settings.X_API_BASE_URL,
            "X_CLIENT_ID": CLIENT_ID,
            "X_BEARER_TOKEN": APP_BEARER,
            "X_TOKEN_KEY": settings.X_TOKEN_KEY,
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield worker
    finally:
        celery_app.conf.task_always_eager = eager
        kill(worker)


def kill(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
