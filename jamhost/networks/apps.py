from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "jamhost.networks"
    label = "networks"

    def ready(self) -> None:
        from jamhost.core import hooks
        from jamhost.networks import compose_limits, publishing

        publishing.subscribe()
        if compose_limits.compose_networks not in hooks.compose_networks:
            hooks.compose_networks.append(compose_limits.compose_networks)
