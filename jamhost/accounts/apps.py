from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "jamhost.accounts"
    label = "accounts"
