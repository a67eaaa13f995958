"""Celery for production: a worker runs tasks (archives, X publishing and ingest) and one
beat process runs the periodic sweeps. In the embedded default tasks run in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamhost.settings")

app = Celery("jamhost")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _beat_schedule() -> dict[str, dict[str, object]]:
    from django.conf import settings

    interval = settings.SWEEP_INTERVAL
    return {
        "jams-sweep": {
            "task": "jamhost.jams.tasks.sweep",
            "schedule": interval,
            "options": {"expires": interval * 3},
        },
        "networks-sweep": {
            "task": "jamhost.networks.tasks.sweep",
            "schedule": interval,
            "options": {"expires": interval * 3},
        },
        "transcripts-archive-sweep": {
            "task": "jamhost.transcripts.tasks.archive_sweep",
            "schedule": settings.ARCHIVE_SWEEP_INTERVAL,
            "options": {"expires": settings.ARCHIVE_SWEEP_INTERVAL},
        },
    }


app.conf.beat_schedule = _beat_schedule()
