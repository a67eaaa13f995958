from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "jamhost.networks"
    label = "networks"

    def ready(self) -> None:
        from jamhost.core import events
        from jamhost.networks import deliveries, publishing

        publishing.subscribe()
        events.subscribe(
            events.PublicationWanted, lambda event: deliveries.deliveries_plan(post=event.post)
        )
        events.subscribe(
            events.PostModerated, lambda event: deliveries.deliveries_release(post=event.post)
        )
