from django.apps import AppConfig


class AudienceConfig(AppConfig):
    name = "jamhost.audience"
    label = "audience"
    verbose_name = "Audience participation"

    def ready(self) -> None:
        from jamhost.audience import flags
        from jamhost.core import events

        events.subscribe(events.PostShown, flags.on_post_shown)
