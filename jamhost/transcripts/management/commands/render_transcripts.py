"""Store the replay's parts for every jam's current transcript version (after a deploy that
changed the post templates: until then readers get parts rendered on demand)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jamhost.transcripts.selectors import latest_transcript_ids
from jamhost.transcripts.services import transcript_render


class Command(BaseCommand):
    help = (
        "Render and store the replay's parts for each jam's latest transcript version, "
        "for the current templates. Idempotent: versions already stored are skipped."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        ids = latest_transcript_ids()
        for done, transcript_id in enumerate(ids, start=1):
            transcript_render(transcript_id=transcript_id)
            if options["verbosity"] > 1:
                self.stdout.write(f"{done} of {len(ids)}")
        self.stdout.write(self.style.SUCCESS(f"{len(ids)} transcript(s) rendered or current."))
