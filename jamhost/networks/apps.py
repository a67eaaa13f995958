from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "jamhost.networks"
    label = "networks"

    def ready(self) -> None:
        from jamhost.core import events, hooks
        from jamhost.networks import deliveries, publishing, text_rules

        publishing.subscribe()
        events.subscribe(
            events.PublicationWanted, lambda event: deliveries.deliveries_plan(post=event.post)
        )
        events.subscribe(
            events.PostModerated, lambda event: deliveries.deliveries_release(post=event.post)
        )
        if text_rules.text_rules not in hooks.text_rules:
            hooks.text_rules.append(text_rules.text_rules)
