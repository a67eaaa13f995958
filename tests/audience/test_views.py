"""The audience endpoints over HTTP: who may do what, answers as JSON, no 500 for any
bad input, and the pages that show the audience parts."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from jamhost.audience.flags import flag_add
from jamhost.audience.replies import reply_compose
from jamhost.audience.votes import vote_add
from jamhost.posts.models import Post

pytestmark = pytest.mark.django_db


def url(name: str, room, *args: object) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"audience:{name}", args=[room.jam.slug, *args])


def test_anonymous_viewers_read_counts_but_cannot_vote_or_flag(room, client) -> None:  # type: ignore[no-untyped-def]
    question = room.question()
    vote_add(post_id=question.pk, user=room.others[0])
    html = client.get(reverse("live:room", args=[room.jam.slug])).content.decode()
    assert 'class="upvote-count">1<' in html and 'data-upvotes="1"' in html
    for name, data in (("vote", {}), ("flag", {"reason": "spam"}), ("reply", {"body": "hi"})):
        response = client.post(url(name, room, question.pk), data)
        assert response.status_code == 403, name
        assert "Log in" in response.json()["message"]
    assert Post.objects.get(pk=question.pk).upvotes == 1
    marks = client.get(url("marks", room)).json()
    assert marks == {"signed_in": False, "me": "", "votes": [], "flags": [], "follow_ups": []}


def test_vote_flag_reply_and_follow_as_a_participant(room, client) -> None:  # type: ignore[no-untyped-def]
    question = room.question()
    me = room.others[0]
    client.force_login(me)
    answer = client.post(url("vote", room, question.pk)).json()
    assert answer["ok"] and answer["upvotes"] == 1 and answer["changed"]
    assert client.post(url("vote", room, question.pk)).json()["changed"] is False
    taken = client.post(url("vote", room, question.pk), {"vote": "remove"}).json()
    assert taken["ok"] and taken["upvotes"] == 0
    client.post(url("vote", room, question.pk))
    flagged = client.post(url("flag", room, question.pk), {"reason": "off-topic"}).json()
    assert flagged["ok"] and "moderators" in flagged["message"]
    replied = client.post(url("reply", room, question.pk), {"body": "Good one", "client_key": "c1"})
    assert replied.json()["ok"] and replied.json()["status"] == "visible"
    followed = client.post(url("follow_up", room), {"author": f"app:{room.asker.pk}"}).json()
    assert followed["ok"] and followed["following"]
    marks = client.get(url("marks", room))
    assert marks["Cache-Control"] == "private, no-store"
    assert marks.json() == {
        "signed_in": True,
        "me": f"app:{me.pk}",
        "votes": [question.pk],
        "flags": [question.pk],
        "follow_ups": [f"app:{room.asker.pk}"],
    }


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("vote", {}, 400),  # not an audience question
        ("flag", {"reason": "nonsense"}, 400),
        ("flag", {"reason": "x" * 5000}, 400),
        ("reply", {"body": ""}, 400),
        ("reply", {"body": "x" * 10_000}, 400),
        ("follow_up", {"author": "nobody"}, 400),
    ],
)
def test_bad_input_gets_a_clear_refusal_not_a_500(room, client, name, data, status) -> None:  # type: ignore[no-untyped-def]
    answer = room.answer()
    client.force_login(room.others[0])
    args = () if name == "follow_up" else (answer.pk,)
    response = client.post(url(name, room, *args), data)
    assert response.status_code == status
    assert response.json()["ok"] is False and response.json()["message"]


def test_own_posts_other_jams_and_missing_posts_are_refused(room, client) -> None:  # type: ignore[no-untyped-def]
    from tests.audience.conftest import Room

    question = room.question()
    client.force_login(room.asker)
    assert client.post(url("flag", room, question.pk), {"reason": "spam"}).status_code == 400
    assert client.post(url("vote", room, question.pk)).status_code == 400
    other = Room()
    elsewhere = reverse("audience:reply", args=[other.jam.slug, question.pk])
    response = client.post(elsewhere, {"body": "cross-jam"})
    assert response.status_code == 404 and "another jam" in response.json()["message"]
    assert client.post(url("vote", room, 10**9)).status_code == 404
    assert client.get(url("vote", room, question.pk)).status_code == 405
    missing = reverse("audience:vote", args=["no-such-jam", question.pk])
    assert client.post(missing).status_code == 404


@override_settings(AUDIENCE_FLAGS_PER_MINUTE=1)
def test_a_flood_of_flags_gets_429_with_when_to_try_again(room, client) -> None:  # type: ignore[no-untyped-def]
    first, second = room.answer("one"), room.answer("two")
    client.force_login(room.others[0])
    assert client.post(url("flag", room, first.pk), {"reason": "spam"}).status_code == 200
    response = client.post(url("flag", room, second.pk), {"reason": "spam"})
    assert response.status_code == 429 and "Try again in" in response.json()["message"]


def test_moderators_see_flags_and_dismiss_them_others_cannot(room, client) -> None:  # type: ignore[no-untyped-def]
    post = room.answer("Flag me")
    flag_add(post_id=post.pk, user=room.others[0], reason="abuse")
    client.force_login(room.others[1])
    assert client.get(url("flags", room)).status_code == 403
    refused = client.post(url("flag_dismiss", room, post.pk), HTTP_ACCEPT="application/json")
    assert refused.status_code == 403
    client.force_login(room.moderator)
    page = client.get(url("flags", room)).content.decode()
    assert "Flag me" in page and "abuse 1" in page and 'name="threshold"' not in page
    console = client.get(reverse("posts:console", args=[room.jam.slug])).content.decode()
    assert "⚑ 1 flag: abuse 1" in console and "data-dismiss-flags" in console
    done = client.post(url("flag_dismiss", room, post.pk))
    assert done.status_code == 302
    assert Post.objects.get(pk=post.pk).flags == 0


def test_the_host_sets_the_threshold_on_the_flag_page(room, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(room.host)
    assert 'name="threshold"' in client.get(url("flags", room)).content.decode()
    response = client.post(url("flag_threshold", room), {"threshold": "lots"}, follow=True)
    assert "whole number" in response.content.decode()
    client.post(url("flag_threshold", room), {"threshold": "2"})
    room.jam.refresh_from_db()
    assert room.jam.flag_threshold == 2
    client.force_login(room.moderator)
    client.post(url("flag_threshold", room), {"threshold": "9"})
    room.jam.refresh_from_db()
    assert room.jam.flag_threshold == 2


def test_the_big_screen_shows_the_top_five_unanswered_questions(room, client) -> None:  # type: ignore[no-untyped-def]
    questions = [room.question(f"Question {i}?", user=room.others[i % 4]) for i in range(7)]
    voters = [room.asker, room.moderator, room.panelist, room.host]
    for votes_wanted, question in zip([0, 4, 1, 3, 2, 0, 1], questions, strict=True):
        for voter in voters[:votes_wanted]:
            vote_add(post_id=question.pk, user=voter)
    html = client.get(reverse("posts:screen", args=[room.jam.slug])).content.decode()
    top = html.split('id="top-questions"')[1].split("</section>")[0]
    order = [q.pk for q in questions if f'id="post-{q.pk}"' in top]
    shown = sorted(order, key=lambda pk: top.index(f'id="post-{pk}"'))
    assert shown == [questions[i].pk for i in (1, 3, 4, 2, 6)]


def test_people_panel_is_shared_and_cached(room, client, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    room.answer()
    first = client.get(url("people", room)).content.decode()
    assert room.panelist.username in first and 'data-follow="' in first
    with django_assert_max_num_queries(1):  # the jam; the panel comes from the cache
        assert client.get(url("people", room)).content.decode() == first


def test_replies_render_threaded_in_the_room(room, client) -> None:  # type: ignore[no-untyped-def]
    answer = room.answer()
    reply = reply_compose(jam=room.jam, user=room.others[0], parent_id=answer.pk, body="Side talk")
    html = client.get(reverse("live:room", args=[room.jam.slug])).content.decode()
    assert f'data-reply-to="{answer.pk}"' in html and "Side talk" in html
    assert 'id="reply-form-template"' in html and "js/audience.js" in html
    assert html.index(f'id="post-{answer.pk}"') < html.index(f'id="post-{reply.pk}"')


@override_settings(RATE_COMPOSE_USER="2/60")
def test_replies_share_the_compose_budget(room, client) -> None:  # type: ignore[no-untyped-def]
    answer = room.answer()
    client.force_login(room.others[0])
    for i in range(2):
        assert client.post(url("reply", room, answer.pk), {"body": f"r{i}"}).status_code == 200
    response = client.post(url("reply", room, answer.pk), {"body": "one more"})
    assert response.status_code == 429 and "try again in" in response.json()["message"]
    assert response["Retry-After"].isdigit()
    assert Post.objects.filter(reply_to=answer).count() == 2
