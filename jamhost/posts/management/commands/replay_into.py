"""`manage.py replay_into <jam-slug> [recording.json]`: replay a recorded jam into a live
jam at its original pace (or faster), for rehearsals and demos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jamhost.jams.models import Jam, JamStatus
from jamhost.posts.rehearsal import DEMO_RECORDING, RecordingError, recording_load, recording_replay


class Command(BaseCommand):
    help = (
        "Replay a transcript JSON export into a live jam at the pace it was recorded: "
        "question releases release the jam's questions of the same number, and every post "
        "reaches screens as a typed post does. Without a file, the demo recording plays. "
        "In the embedded default run this inside the server instead (DEMO_REPLAY=true, as "
        "`make run` does): a separate process's posts reach screens only at the next resync."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the live jam to play into")
        parser.add_argument("recording", nargs="?", default=str(DEMO_RECORDING))
        parser.add_argument(
            "--speed", type=float, default=1.0, help="1 = the original pace, 4 = four times faster"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        speed = options["speed"]
        if not 0.1 <= speed <= 100:
            raise CommandError("--speed is between 0.1 and 100.")
        jam = Jam.objects.filter(slug=options["slug"]).first()
        if jam is None:
            raise CommandError(f"No jam “{options['slug']}”. Give the slug from its address.")
        if jam.status != JamStatus.LIVE:
            raise CommandError(
                f"“{jam.title}” is {jam.get_status_display().lower()}, not live. "
                "Start it (the host's “Start now”) and run this again."
            )
        try:
            recording = recording_load(Path(options["recording"]))
        except RecordingError as exc:
            raise CommandError(str(exc)) from exc
        minutes = recording.seconds / speed / 60
        self.stdout.write(
            f"Replaying {len(recording.posts)} posts into {jam.slug} over {minutes:.1f} minutes…"
        )
        played = recording_replay(slug=jam.slug, recording=recording, speed=speed)
        if played < len(recording.posts):
            self.stdout.write(self.style.WARNING(f"Stopped after {played}: the jam is not live."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Done: {played} posts replayed."))
