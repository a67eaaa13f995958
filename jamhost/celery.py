"""Celery for production: workers run tasks and one beat process runs the periodic
sweeps. In the embedded default tasks run in-process.

Queues: archives (archive_jam and its sweep) and imports (import_transcript) each have
their own, so a 100,000-post import never holds up a jam's archive; everything else (X
publishing and ingest, schedule sweeps, replay rendering) goes to the default "celery"
queue. The Procfile's `worker` consumes celery and archives, its `importer` imports."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamhost.settings")

DEFAULT_QUEUE = "celery"
ARCHIVE_QUEUE = "archives"
IMPORT_QUEUE = "imports"

app = Celery("jamhost")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_routes = {
    "jamhost.transcripts.tasks.archive_jam": {"queue": ARCHIVE_QUEUE},
    "jamhost.transcripts.tasks.archive_sweep": {"queue": ARCHIVE_QUEUE},
    "jamhost.transcripts.tasks.import_transcript": {"queue": IMPORT_QUEUE},
}
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
        "reminders-sweep": {
            "task": "jamhost.jams.tasks.reminders",
            "schedule": 30.0,
            "options": {"expires": 30.0},
        },
        "polls-sweep": {
            "task": "jamhost.polls.tasks.sweep",
            "schedule": interval,
            "options": {"expires": interval * 3},
        },
        "drafts-sweep": {
            "task": "jamhost.posts.tasks.drafts_sweep",
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
        "transcripts-import-sweep": {
            "task": "jamhost.transcripts.tasks.import_sweep_task",
            "schedule": 60.0,
            "options": {"expires": 60.0},
        },
    }


app.conf.beat_schedule = _beat_schedule()
