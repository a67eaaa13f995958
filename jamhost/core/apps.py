from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "jamhost.core"
    label = "core"
