from django.apps import AppConfig


class TranscriptsConfig(AppConfig):
    name = "jamhost.transcripts"
    label = "transcripts"

    def ready(self) -> None:
        from jamhost.core import events
        from jamhost.transcripts.tasks import archive_enqueue

        events.subscribe(events.JamEnded, archive_enqueue)
