from django.apps import AppConfig


class NetworksConfig(AppConfig):
    name = "jamhost.networks"
    label = "networks"
