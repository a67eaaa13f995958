from django.apps import AppConfig


class PollsConfig(AppConfig):
    name = "jamhost.polls"
    label = "polls"
    verbose_name = "Polls"

    def ready(self) -> None:
        # The apps below polls reach it only through these hooks.
        from jamhost.polls import hooks

        hooks.register()
