"""post_compose and post_insert: what is stored, what is refused, seq and rev."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from jamhost.jams.models import JamStatus, ModerationMode, Role
from jamhost.posts.models import AuthorRole, Post, PostStatus
from jamhost.posts.services import post_compose
from tests.factories import JamFactory, MembershipFactory, UserFactory, live_jam

pytestmark = pytest.mark.django_db


def test_panelist_post_gets_current_question_prefix_and_hashtag() -> None:
    jam = live_jam(released=2)
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    post = post_compose(jam=jam, user=panelist, body="Deep work mornings")
    assert post.text == f"A2: Deep work mornings #{jam.hashtag}"
    assert post.question is not None and post.question.number == 2
    assert post.author_role == AuthorRole.PANELIST
    assert post.status == PostStatus.VISIBLE
    assert Post.objects.get(pk=post.pk).seq == 3  # after the Q1 and Q2 releases


def test_participant_gets_no_prefix_by_default_but_may_choose_one() -> None:
    jam = live_jam(released=2)
    user = UserFactory()
    plain = post_compose(jam=jam, user=user, body="Hello!")
    assert plain.text == f"Hello! #{jam.hashtag}" and plain.question is None
    chosen = post_compose(jam=jam, user=user, body="Mine", question_number=1)
    assert chosen.text.startswith("A1: ") and chosen.question.number == 1


def test_seq_and_rev_increase_without_gaps() -> None:
    jam = live_jam(released=1)
    user = UserFactory()
    posts = [post_compose(jam=jam, user=user, body=f"post {i}") for i in range(5)]
    seqs = [p.seq for p in posts]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    revs = [p.rev for p in posts]
    assert revs == sorted(revs) and len(set(revs)) == 5
    jam.refresh_from_db()
    assert jam.last_seq == seqs[-1] and jam.rev == revs[-1]


def test_client_key_makes_a_resent_form_post_once() -> None:
    jam = live_jam()
    user = UserFactory()
    first = post_compose(jam=jam, user=user, body="once", client_key="k1")
    second = post_compose(jam=jam, user=user, body="once", client_key="k1")
    assert first.pk == second.pk
    assert Post.objects.filter(jam=jam, author=user).count() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write something"),
        ("   \n ", "Write something"),
        ("\x07\u200b\x1f", "Write something"),
        ("hi\x00there", "NUL character"),
        ("x" * 300, "over the limit of 280"),
        ("x" * 5000, "far over"),
    ],
)
def test_bad_bodies_are_refused_with_a_clear_message(
    body: str, message: str, settings: Any
) -> None:
    settings.X_CLIENT_ID = "client"  # the jam runs on X: X's limit applies
    jam = live_jam()
    with pytest.raises(ValidationError) as exc:
        post_compose(jam=jam, user=UserFactory(), body=body)
    assert message in " ".join(exc.value.messages)
    assert not Post.objects.filter(jam=jam, kind="post").exists()


def test_over_long_message_gives_the_count(settings: Any) -> None:
    settings.X_CLIENT_ID = "client"  # the jam runs on X: X's limit applies
    jam = live_jam()
    with pytest.raises(ValidationError) as exc:
        post_compose(jam=jam, user=UserFactory(), body="y" * 290, question_number=None)
    text = " ".join(exc.value.messages)
    assert f"{290 + len(jam.hashtag) + 2} characters" in text


def test_unknown_or_unreleased_question_is_refused() -> None:
    jam = live_jam(questions=3, released=1)
    with pytest.raises(ValidationError, match="no Q9"):
        post_compose(jam=jam, user=UserFactory(), body="x", question_number=9)
    with pytest.raises(ValidationError, match="Q3 has not been released"):
        post_compose(jam=jam, user=UserFactory(), body="x", question_number=3)
    with pytest.raises(ValidationError, match="Q3 has not been released"):
        post_compose(jam=jam, user=UserFactory(), body="A3: sneaky", question_number=None)


@pytest.mark.parametrize("status", [JamStatus.DRAFT, JamStatus.SCHEDULED, JamStatus.ENDED])
def test_posting_to_a_jam_that_is_not_live_is_refused(status: str) -> None:
    jam = JamFactory(status=status)
    with pytest.raises(ValidationError, match="not live"):
        post_compose(jam=jam, user=UserFactory(), body="hello")


def test_anonymous_cannot_post() -> None:
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ValidationError, match="Sign in"):
        post_compose(jam=live_jam(), user=AnonymousUser(), body="hello")


def test_pre_moderation_holds_participants_but_not_panelists() -> None:
    jam = live_jam(moderation_mode=ModerationMode.PRE)
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    assert post_compose(jam=jam, user=UserFactory(), body="hi").status == PostStatus.PENDING
    assert post_compose(jam=jam, user=panelist, body="hi").status == PostStatus.VISIBLE


def test_muted_words_match_whole_words_only() -> None:
    jam = live_jam()
    jam.muted_words = "ass\nfree money"
    jam.save()
    assert post_compose(jam=jam, user=UserFactory(), body="A class act").status == "visible"
    assert post_compose(jam=jam, user=UserFactory(), body="Get FREE  money").status == "pending"
    assert post_compose(jam=jam, user=UserFactory(), body="what an ass!").status == "pending"


def test_muted_words_send_a_post_to_pending() -> None:
    jam = live_jam()
    jam.muted_words = "casino\nfree money"
    jam.save()
    post = post_compose(jam=jam, user=UserFactory(), body="Try our CASINO now")
    assert post.status == PostStatus.PENDING and "casino" in post.status_reason


def test_question_release_makes_a_host_post_and_current_question() -> None:
    jam = live_jam(questions=2, released=1)
    q1 = jam.questions.get(number=1)
    release = Post.objects.get(jam=jam, question=q1, kind="question")
    assert release.text == f"Q1: {q1.text} #{jam.hashtag}"
    assert release.author_role == AuthorRole.HOST
    assert jam.current_question_id == q1.pk
    assert jam.header_rev == release.rev


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_posting_on_postgresql_gives_gap_free_unique_seqs() -> None:
    assert connection.vendor == "postgresql"
    jam = live_jam(questions=1, released=1)
    users = [UserFactory() for _ in range(8)]
    errors: list[BaseException] = []

    def write(user: object) -> None:
        try:
            for i in range(10):
                post_compose(jam=jam, user=user, body=f"burst {i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    seqs = list(Post.objects.filter(jam=jam).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 82))  # the Q1 release plus 80 posts
    revs = list(Post.objects.filter(jam=jam).values_list("rev", flat=True))
    assert len(set(revs)) == len(revs)
    jam.refresh_from_db()
    assert jam.last_seq == 81


def test_ended_jam_end_time_is_kept() -> None:
    from jamhost.jams.lifecycle import jam_end

    jam = live_jam()
    now = timezone.now() + timedelta(minutes=1)
    jam_end(jam=jam, now=now)
    jam.refresh_from_db()
    assert jam.status == JamStatus.ENDED and jam.ended_at == now
