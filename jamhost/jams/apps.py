from django.apps import AppConfig


class JamsConfig(AppConfig):
    name = "jamhost.jams"
    label = "jams"
