from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "jamhost.networks"
    label = "networks"

    def ready(self) -> None:
        from jamhost.core import events, hooks
        from jamhost.networks import compose_limits, deliveries, publishing

        publishing.subscribe()
        events.subscribe(
            events.PublicationWanted, lambda event: deliveries.deliveries_plan(post=event.post)
        )
        events.subscribe(
            events.PostModerated, lambda event: deliveries.deliveries_release(post=event.post)
        )
        if compose_limits.compose_networks not in hooks.compose_networks:
            hooks.compose_networks.append(compose_limits.compose_networks)
