from django.apps import AppConfig


class TranscriptsConfig(AppConfig):
    name = "jamhost.transcripts"
    label = "transcripts"
