from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "jamhost.live"
    label = "live"

    def ready(self) -> None:
        from jamhost.live import publish

        publish.subscribe()
