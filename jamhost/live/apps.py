from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "jamhost.live"
    label = "live"
