from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from jamhost.jams import run_sheet
from jamhost.networks.models import Publication, XStatus
from jamhost.networks.publishing import post_publish, post_publish_retry
from jamhost.networks.sweep import networks_sweep
from jamhost.networks.tasks import publish_post
from jamhost.networks.usage import jam_cost
from jamhost.posts.models import Post
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.networks.conftest import link_x
from tests.xstate import LOCAL, on_x

pytestmark = pytest.mark.django_db


def compose(jam, user, body, captured):  # type: ignore[no-untyped-def]
    with captured(execute=True):
        post = post_compose(jam=jam, user=user, body=body)
    post.refresh_from_db()
    return post


def test_post_of_linked_user_is_published_as_composed(x_server, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    jam = live_jam()
    panelist = UserFactory()
    MembershipFactory(jam=jam, user=panelist)
    account = link_x(x_server, panelist)

    body = "Ship small things 🚀 日本語も"
    post = compose(jam, panelist, body, django_capture_on_commit_callbacks)

    tweets = x_server.tweets_by(account.x_user_id)
    assert [t["text"] for t in tweets] == [post.text]
    assert post.text == f"A1: Ship small things 🚀 日本語も {jam.tag}"
    assert on_x(post).status == XStatus.PUBLISHED
    assert on_x(post).x_id == tweets[0]["id"]
    # Answers are standalone posts, never replies.
    sent = x_server.requests_to("/2/tweets", "POST")[0][3]
    assert "reply" not in sent
    assert jam_cost(jam_id=jam.pk).creates == 1


def test_question_release_is_published_from_the_host_account(
    x_server, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    jam = live_jam(released=0)
    account = link_x(x_server, jam.host)
    question = jam.questions.get(number=1)
    with django_capture_on_commit_callbacks(execute=True):
        run_sheet.question_release(question=question)
    post = Post.objects.get(jam=jam, question=question, kind="question")
    tweets = x_server.tweets_by(account.x_user_id)
    assert [t["text"] for t in tweets] == [f"Q1: {question.text} {jam.tag}"]
    assert on_x(post).x_id == tweets[0]["id"]


def test_without_linked_account_or_credentials_posts_stay_local(
    x_server, settings, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    jam = live_jam()
    post = compose(jam, jam.host, "no X for me", django_capture_on_commit_callbacks)
    assert on_x(post).status == LOCAL

    link_x(x_server, jam.host)
    settings.X_CLIENT_ID = ""
    post = compose(jam, jam.host, "X is off on this site", django_capture_on_commit_callbacks)
    assert on_x(post).status == LOCAL
    assert x_server.requests_to("/2/tweets", "POST") == []


def test_timeout_after_create_is_checked_before_posting_again(
    x_server, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    """The ambiguous failure: X created the post but the answer came too late."""
    jam = live_jam()
    account = link_x(x_server, jam.host)
    x_server.fault_next("/2/tweets", "slow_after_create", delay=1.5)

    post = compose(jam, jam.host, "careful with retries", django_capture_on_commit_callbacks)
    assert on_x(post).status == XStatus.QUEUED
    assert "did not answer" in on_x(post).error
    publication = Publication.objects.get(post=post)
    assert publication.in_doubt
    assert len(x_server.tweets_by(account.x_user_id)) == 1  # it did go out

    # The retried task (as a worker or the sweep would send it) finds it, posts nothing.
    publish_post.delay(post.pk)
    publish_post.delay(post.pk)
    post.refresh_from_db()
    assert on_x(post).status == XStatus.PUBLISHED
    tweets = x_server.tweets_by(account.x_user_id)
    assert len(tweets) == 1
    assert on_x(post).x_id == tweets[0]["id"]
    assert len(x_server.requests_to("/2/tweets", "POST")) == 1


def test_5xx_is_retried_with_backoff_and_posts_once(x_server, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    jam = live_jam()
    account = link_x(x_server, jam.host)
    x_server.fault_next("/2/tweets", "503")
    post = compose(jam, jam.host, "second time lucky", django_capture_on_commit_callbacks)
    assert on_x(post).status == XStatus.QUEUED
    assert "503" in on_x(post).error
    publication = Publication.objects.get(post=post)
    assert publication.next_attempt_at > timezone.now() + timedelta(seconds=3)

    # Not due yet: the sweep leaves it.
    assert networks_sweep().published == []
    result = networks_sweep(now=publication.next_attempt_at + timedelta(seconds=1))
    assert result.published == [post.pk]
    post.refresh_from_db()
    assert on_x(post).status == XStatus.PUBLISHED
    assert len(x_server.tweets_by(account.x_user_id)) == 1


def test_429_pauses_until_the_reset_time(x_server, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    jam = live_jam()
    link_x(x_server, jam.host)
    x_server.fault_next("/2/tweets", "429", reset_in=120)
    post = compose(jam, jam.host, "rate limited", django_capture_on_commit_callbacks)
    publication = Publication.objects.get(post=post)
    wait = (publication.next_attempt_at - timezone.now()).total_seconds()
    assert 100 < wait <= 121
    assert not publication.in_doubt  # a 429 created nothing
    assert networks_sweep(now=timezone.now() + timedelta(seconds=60)).published == []
    networks_sweep(now=publication.next_attempt_at + timedelta(seconds=1))
    post.refresh_from_db()
    assert on_x(post).status == XStatus.PUBLISHED
    # A 429 created nothing, so there was no look on X before posting again.
    searches = [r[2]["query"][0] for r in x_server.requests_to("/2/tweets/search/recent")]
    assert not [q for q in searches if q.startswith("from:")]
    assert len(x_server.requests_to("/2/tweets", "POST")) == 2


def test_refused_post_fails_with_reason_and_can_be_retried(
    x_server, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    jam = live_jam()
    panelist = UserFactory()
    MembershipFactory(jam=jam, user=panelist)
    link_x(x_server, panelist)
    problem = {
        "type": "https://api.x.com/2/problems/invalid-request",
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
    }
    x_server.fault_next("/2/tweets", "raw", status=400, body=problem)
    post = compose(jam, panelist, "refused once", django_capture_on_commit_callbacks)
    assert on_x(post).status == XStatus.FAILED
    assert "parameters to your request was invalid" in on_x(post).error
    rev = post.rev

    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        post_publish_retry(post=post, actor=stranger)
    with django_capture_on_commit_callbacks(execute=True):
        post_publish_retry(post=post, actor=panelist)
    post.refresh_from_db()
    assert on_x(post).status == XStatus.PUBLISHED
    assert post.rev > rev
    with pytest.raises(ValidationError, match="Only a post that failed"):
        post_publish_retry(post=post, actor=panelist)


def test_revoked_account_fails_the_post_and_asks_to_reconnect(
    x_server, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    jam = live_jam()
    account = link_x(x_server, jam.host)
    x_server.tokens_revoke(account.x_user_id)
    post = compose(jam, jam.host, "after revoke", django_capture_on_commit_callbacks)
    assert on_x(post).status == XStatus.FAILED
    assert "Reconnect X" in on_x(post).error
    account.refresh_from_db()
    assert account.is_revoked
    with pytest.raises(ValidationError, match="Reconnect X"):
        post_publish_retry(post=post, actor=jam.host)
    # Later posts are local only until the user reconnects; none is lost.
    later = compose(jam, jam.host, "still here", django_capture_on_commit_callbacks)
    assert on_x(later).status == LOCAL


def test_post_with_link_counts_at_the_link_rate(x_server, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    jam = live_jam()
    link_x(x_server, jam.host)
    compose(jam, jam.host, "read https://example.org/jam", django_capture_on_commit_callbacks)
    compose(jam, jam.host, "no link here", django_capture_on_commit_callbacks)
    # As X finds URLs (twitter-text), not by a list of domains: any TLD, no http:// needed;
    # an e-mail address or a version number is no link.
    compose(jam, jam.host, "slides at example.museum/deck", django_capture_on_commit_callbacks)
    assert jam_cost(jam_id=jam.pk).creates_with_url == 2
    compose(jam, jam.host, "mail ada@gmail.com about v1.2", django_capture_on_commit_callbacks)
    cost = jam_cost(jam_id=jam.pk)
    assert (cost.creates, cost.creates_with_url) == (4, 2)
    assert str(cost.dollars) == "0.43"  # 2 * 0.015 + 2 * 0.20


def test_publishing_a_published_post_again_does_nothing(
    x_server, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    jam = live_jam()
    link_x(x_server, jam.host)
    post = compose(jam, jam.host, "once only", django_capture_on_commit_callbacks)
    assert post_publish(post_id=post.pk) == "already"
    assert len(x_server.requests_to("/2/tweets", "POST")) == 1


def test_broker_down_at_compose_keeps_the_post_queued_for_the_sweep(
    x_server, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    from jamhost.celery import app

    jam = live_jam()
    panelist = UserFactory()
    MembershipFactory(jam=jam, user=panelist)
    account = link_x(x_server, panelist)
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url", "task_publish_retry")}
    app.conf.update(
        task_always_eager=False, broker_url="redis://127.0.0.1:1/0", task_publish_retry=False
    )
    try:
        post = compose(jam, panelist, "Broker is down", django_capture_on_commit_callbacks)
    finally:
        app.conf.update(saved)
    assert on_x(post).status == XStatus.QUEUED
    assert x_server.tweets_by(account.x_user_id) == []
    networks_sweep(now=timezone.now() + timedelta(seconds=1))
    post.refresh_from_db()
    assert on_x(post).status == XStatus.PUBLISHED
    assert [t["text"] for t in x_server.tweets_by(account.x_user_id)] == [post.text]
