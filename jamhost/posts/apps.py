from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "jamhost.posts"
    label = "posts"
