"""The host's post of a released question. jams.run_sheet.question_release sends
QuestionReleased inside its transaction; the posts app answers with the post "Qn: … #tag"
(PostsConfig.ready subscribes)."""

from __future__ import annotations

from datetime import datetime

from jamhost.core import events
from jamhost.jams.models import Jam, Question
from jamhost.posts.models import AuthorRole, Kind, Post
from jamhost.posts.services import elsewhere_for, post_insert, publication_request


def question_post_insert(*, jam: Jam, question: Question, now: datetime) -> Post:
    """The host's post of a question just released ("Qn: … #tag"), inside the releasing
    transaction (jams.run_sheet.question_release sends QuestionReleased); it goes out
    from the host's X account after commit."""
    host = jam.host
    post = post_insert(
        jam=jam,
        kind=Kind.QUESTION,
        author=host,
        author_role=AuthorRole.HOST,
        body=question.text,
        text=f"{question.label}: {question.text} {jam.tag}",
        question=question,
        now=now,
        header_changed=True,
        elsewhere=elsewhere_for(user=host),
    )
    publication_request(post=post)  # from the host's X account, after commit
    return post


def on_question_released(event: events.QuestionReleased) -> None:
    question_post_insert(jam=event.jam, question=event.question, now=event.now)
