"""Moderation holds publishing: in a pre-moderated jam a pending post goes to X when it is
approved, not before; a hidden or removed post never goes. And the compose box says so,
and warns before the same text is sent to X twice."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db.models import F

from jamhost.jams.models import Jam, ModerationMode
from jamhost.networks.models import JamNetwork, XStatus
from jamhost.networks.publishing import post_publish
from jamhost.posts.models import PostStatus
from jamhost.posts.post_moderation import post_approve, post_hide, post_restore
from jamhost.posts.render import render_post
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.networks.conftest import link_x
from tests.xstate import on_x

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
    assert on_x(post).status == XStatus.HELD
    assert "Goes to X once a moderator approves it" in render_post(post, "moderator")
    assert x_server.tweets_by(account.x_user_id) == []
    assert post_publish(post_id=post.pk) == "not queued"  # the sweep cannot send it either
    assert x_server.requests_to("/2/tweets", "POST") == []

    with django_capture_on_commit_callbacks(execute=True):
        post_approve(jam=jam, actor=moderator_of(jam), post_id=post.pk)
    post.refresh_from_db()
    (tweet,) = x_server.tweets_by(account.x_user_id)
    assert on_x(post).status == XStatus.PUBLISHED
    assert on_x(post).x_id == tweet["id"]


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
    assert on_x(post).status == XStatus.HELD
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
    assert on_x(post).status == XStatus.QUEUED
    post_hide(jam=jam, actor=moderator_of(jam), post_id=post.pk, reason="spam")

    assert post_publish(post_id=post.pk) == "held"
    post.refresh_from_db()
    assert on_x(post).status == XStatus.HELD
    assert x_server.requests_to("/2/tweets", "POST") == []


def test_the_compose_box_says_posts_wait_for_approval(x_server: Any, client: Any) -> None:
    jam = live_jam(moderation_mode=ModerationMode.PRE)
    fan, panelist = UserFactory(), UserFactory()
    MembershipFactory(jam=jam, user=panelist, role="panelist")
    client.force_login(fan)
    page = client.get(f"/jams/{jam.slug}/live/").content.decode()
    assert "sent to the jam's networks, once a moderator approves it" in page
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


def test_the_room_gives_the_browser_the_texts_to_warn_about(
    x_server: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The browser warns as it counts (static/js/compose-count.js, no request per
    keystroke): the room lists the texts this account sent to X that a post here could
    repeat, and the box after a post adds the one it just sent."""
    jam = live_jam(hashtag="ShipTalk")
    other_jam = live_jam(hashtag="ShipTalkLater")  # contains the tag's letters, not the tag
    fan = UserFactory()
    link_x(x_server, fan)
    sent = compose(jam, fan, "Ship it on Fridays", django_capture_on_commit_callbacks)
    compose(other_jam, fan, "Not about this tag", django_capture_on_commit_callbacks)
    client.force_login(fan)

    room = client.get(f"/jams/{jam.slug}/live/").content.decode()
    listed = room.split('<script id="compose-sent-texts" type="application/json">')[1]
    assert json.loads(listed.split("</script>")[0]) == [sent.text]

    box = client.post(
        f"/jams/{jam.slug}/live/compose/",
        {"body": "Ship it on Mondays", "question": "none", "client_key": "k-monday"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert f'data-sent-text="Ship it on Mondays #{jam.hashtag}"' in box
    assert 'data-repeats="X"' in box  # the network that refuses a repeat, for the warning

    # Nothing to warn about for a post that stays local (no X account linked).
    client.force_login(UserFactory())
    box = client.post(
        f"/jams/{jam.slug}/live/compose/",
        {"body": "Local only", "question": "none", "client_key": "k-local"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Posted." in box and "data-sent-text" not in box


def test_the_box_after_a_post_keeps_the_authors_approval_note(client: Any) -> None:
    """The box answered to a post (or a refusal) says what the room said: a participant's
    posts wait for approval in a pre-moderated jam, a panelist's do not."""
    jam = live_jam(moderation_mode=ModerationMode.PRE)
    fan, panelist = UserFactory(), UserFactory()
    MembershipFactory(jam=jam, user=panelist, role="panelist")
    url = f"/jams/{jam.slug}/live/compose/"
    note = "once a moderator approves it"
    for user, held in ((fan, True), (panelist, False)):
        client.force_login(user)
        for body in (f"Hello from {user.username}", ""):  # posted, then refused
            box = client.post(
                url, {"body": body, "question": "none"}, HTTP_HX_REQUEST="true"
            ).content.decode()
            assert (note in box) is held, (user.username, body)


def test_a_jam_without_x_warns_about_no_repeat(
    x_server: Any, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Only a network that refuses the same text twice, and that the post goes to, makes
    the box warn: with X turned off for the jam nothing is listed or marked."""
    jam = live_jam(hashtag="ShipTalk")
    fan = UserFactory()
    link_x(x_server, fan)
    compose(jam, fan, "Ship it on Fridays", django_capture_on_commit_callbacks)
    client.force_login(fan)
    ask = {"body": "Ship it on Fridays", "question": "none"}
    preview = client.post(f"/jams/{jam.slug}/live/preview/", ask).content.decode()
    assert "You already sent this exact text to X, and X refuses" in preview
    JamNetwork.objects.create(jam=jam, network="x", enabled=False)
    Jam.objects.filter(pk=jam.pk).update(header_rev=F("header_rev") + 1)  # as the page does

    room = client.get(f"/jams/{jam.slug}/live/").content.decode()
    listed = room.split('<script id="compose-sent-texts" type="application/json">')[1]
    assert json.loads(listed.split("</script>")[0]) == []
    assert "data-repeats" not in room
    preview = client.post(f"/jams/{jam.slug}/live/preview/", ask).content.decode()
    assert "refuses the same text twice" not in preview
