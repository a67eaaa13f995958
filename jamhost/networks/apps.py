from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "jamhost.networks"
    label = "networks"

    def ready(self) -> None:
        from jamhost.networks import publishing

        publishing.subscribe()
