"""Moderation holds publishing: in a pre-moderated jam a pending post goes to X when it is
approved, not before; a hidden or removed post never goes. And the compose box says so,
and warns before the same text is sent to X twice."""

from __future__ import annotations

from typing import Any

import pytest

from jamhost.jams.models import ModerationMode
from jamhost.live.render import render_post
from jamhost.networks.publishing import post_publish
from jamhost.posts.models import NetworkStatus, PostStatus
from jamhost.posts.moderation import post_approve, post_hide, post_restore
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.networks.conftest import link_x

pytestmark = pytest.mark.django_db


def compose(jam: Any, user: Any, body: str, captured: Any) -> Any:
    with captured(execute=True):
        post = post_compose(jam=jam, user=user, body=body)
    post.refresh_from_db()
    return post


def moderator_of(jam: Any) -> Any:
    moderator = UserFactory()
    MembershipFactory(jam=jam, user=moderator, role="moderator")
    return moderator


def test_a_pending_post_goes_to_x_when_approved_not_before(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    jam = live_jam(moderation_mode=ModerationMode.PRE)
    fan = UserFactory()
    account = link_x(x_server, fan)
    post = compose(jam, fan, "my first jam answer", django_capture_on_commit_callbacks)

    assert post.status == PostStatus.PENDING
    assert post.network_status == NetworkStatus.HELD
    assert "Goes to X once a moderator approves it" in render_post(post, "moderator")
    assert x_server.tweets_by(account.x_user_id) == []
    assert post_publish(post_id=post.pk) == "not queued"  # the sweep cannot send it either
    assert x_server.requests_to("/2/tweets", "POST") == []

    with django_capture_on_commit_callbacks(execute=True):
        post_approve(jam=jam, actor=moderator_of(jam), post_id=post.pk)
    post.refresh_from_db()
    (tweet,) = x_server.tweets_by(account.x_user_id)
    assert post.network_status == NetworkStatus.PUBLISHED
    assert post.network_post_id == tweet["id"]


def test_a_hidden_post_is_never_published_unless_restored(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    jam = live_jam(moderation_mode=ModerationMode.PRE)
    fan = UserFactory()
    account = link_x(x_server, fan)
    moderator = moderator_of(jam)
    post = compose(jam, fan, "something off-topic", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        post_hide(jam=jam, actor=moderator, post_id=post.pk, reason="off-topic")
    post.refresh_from_db()
    assert post.network_status == NetworkStatus.HELD
    assert x_server.requests_to("/2/tweets", "POST") == []

    with django_capture_on_commit_callbacks(execute=True):
        post_restore(jam=jam, actor=moderator, post_id=post.pk)
    assert len(x_server.tweets_by(account.x_user_id)) == 1


def test_a_post_hidden_before_its_turn_to_publish_stays_off_x(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Post-moderated jam: queued at once, hidden before the worker got to it."""
    jam = live_jam()
    fan = UserFactory()
    link_x(x_server, fan)
    post = post_compose(jam=jam, user=fan, body="spam spam")  # on-commit task not run
    post.refresh_from_db()
    assert post.network_status == NetworkStatus.QUEUED
    post_hide(jam=jam, actor=moderator_of(jam), post_id=post.pk, reason="spam")

    assert post_publish(post_id=post.pk) == "held"
    post.refresh_from_db()
    assert post.network_status == NetworkStatus.HELD
    assert x_server.requests_to("/2/tweets", "POST") == []


def test_the_compose_box_says_posts_wait_for_approval(x_server: Any, client: Any) -> None:
    jam = live_jam(moderation_mode=ModerationMode.PRE)
    fan, panelist = UserFactory(), UserFactory()
    MembershipFactory(jam=jam, user=panelist, role="panelist")
    client.force_login(fan)
    page = client.get(f"/jams/{jam.slug}/live/").content.decode()
    assert "sent to X, once a moderator approves it" in page
    client.force_login(panelist)
    assert (
        "once a moderator approves it" not in client.get(f"/jams/{jam.slug}/live/").content.decode()
    )


def test_the_compose_box_warns_before_the_same_text_goes_to_x_twice(
    x_server: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    jam = live_jam()
    fan = UserFactory()
    link_x(x_server, fan)
    compose(jam, fan, "Ship it on Fridays", django_capture_on_commit_callbacks)
    client.force_login(fan)
    url = f"/jams/{jam.slug}/live/preview/"

    same = client.post(url, {"body": "Ship it on Fridays", "question": "none"}).content.decode()
    assert "X refuses the same text twice" in same
    other = client.post(url, {"body": "Ship it on Mondays", "question": "none"}).content.decode()
    assert "X refuses the same text twice" not in other
