"""`manage.py x_stream`: ingest through X's filtered stream (run one, with X_INGEST=stream)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jamhost.networks.stream import stream_run


class Command(BaseCommand):
    help = "Follow X's filtered stream for jams in their ingest window (X_INGEST=stream)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.X_CLIENT_ID and settings.X_BEARER_TOKEN):
            raise CommandError("Set X_CLIENT_ID and X_BEARER_TOKEN to follow X's stream.")
        if settings.X_INGEST != "stream":
            raise CommandError("X_INGEST is not 'stream': the beat sweep ingests with search.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        self.stdout.write("following X's filtered stream; Ctrl-C or SIGTERM stops")
        try:
            stream_run(stop=stop)
        except KeyboardInterrupt:
            stop.set()
