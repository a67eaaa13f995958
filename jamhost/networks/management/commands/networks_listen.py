"""`manage.py networks_listen`: live delivery from Bluesky's Jetstream and Mastodon's
streaming API (networks.listeners), until SIGTERM or SIGINT. Run one."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from jamhost.networks.listeners import listeners_run, listening_configured


class Command(BaseCommand):
    help = (
        "Listen to Jetstream (BLUESKY_JETSTREAM_URL) and Mastodon's hashtag streams "
        "(MASTODON_STREAMING) for the jams in their ingest window."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            if listening_configured():
                self.stdout.write("listening to Jetstream and Mastodon streams; SIGTERM stops")
                listeners_run(stop=stop)
            else:
                # A Procfile process that ended would stop the others: wait instead.
                self.stdout.write(
                    "nothing to listen to: set BLUESKY_JETSTREAM_URL (with BLUESKY_ENABLED) "
                    "or MASTODON_STREAMING (with MASTODON_ENABLED); waiting for SIGTERM"
                )
                stop.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("stopped")
