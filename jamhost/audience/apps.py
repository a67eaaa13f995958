from django.apps import AppConfig


class AudienceConfig(AppConfig):
    name = "jamhost.audience"
    label = "audience"
    verbose_name = "Audience participation"
