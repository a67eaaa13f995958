from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "jamhost.posts"
    label = "posts"

    def ready(self) -> None:
        from jamhost.core import events
        from jamhost.posts.question_posts import on_question_released

        events.subscribe(events.QuestionReleased, on_question_released)
