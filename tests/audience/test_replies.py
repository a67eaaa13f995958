"""Side conversations: replies are posts threaded under their post, following the same
moderation rules, mentioning the author on X only when they are in the jam there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from jamhost.audience.replies import reply_compose
from jamhost.networks.models import XStatus
from jamhost.posts.models import Post, PostStatus, Source
from jamhost.posts.render import VIEWER, render_post
from jamhost.posts.services import post_insert
from tests.xstate import on_x

pytestmark = pytest.mark.django_db


def test_a_reply_is_a_post_threaded_under_its_parent(room) -> None:  # type: ignore[no-untyped-def]
    answer = room.answer("A1 is simple.")
    reply = reply_compose(jam=room.jam, user=room.others[0], parent_id=answer.pk, body="Agreed!")
    assert reply.reply_to_id == answer.pk and reply.seq == answer.seq + 1
    assert reply.text == f"Agreed! #{room.jam.hashtag}"  # no mention: nobody on X here
    assert reply.question_id == answer.question_id  # the thread stays with its question
    assert reply.status == PostStatus.VISIBLE
    html = render_post(reply, VIEWER)
    assert f'data-reply-to="{answer.pk}"' in html
    parent_html = render_post(answer, VIEWER)
    assert "data-thread-slot" in parent_html and 'data-reply="' in parent_html


def test_a_reply_to_a_reply_joins_the_same_thread(room) -> None:  # type: ignore[no-untyped-def]
    answer = room.answer()
    first = reply_compose(jam=room.jam, user=room.others[0], parent_id=answer.pk, body="one")
    second = reply_compose(jam=room.jam, user=room.others[1], parent_id=first.pk, body="two")
    assert second.reply_to_id == answer.pk


def test_replies_follow_the_moderation_rules(room) -> None:  # type: ignore[no-untyped-def]
    room.jam.muted_words = "crypto"
    room.jam.save(update_fields=["muted_words"])
    answer = room.answer()
    reply = reply_compose(
        jam=room.jam, user=room.others[0], parent_id=answer.pk, body="buy crypto now"
    )
    assert reply.status == PostStatus.PENDING
    assert "post-removed" in render_post(reply, VIEWER)


def test_a_resent_reply_is_stored_once(room) -> None:  # type: ignore[no-untyped-def]
    answer = room.answer()
    kwargs = {"jam": room.jam, "user": room.others[0], "parent_id": answer.pk, "body": "hi"}
    first = reply_compose(**kwargs, client_key="k1")
    again = reply_compose(**kwargs, client_key="k1")
    assert first.pk == again.pk
    assert Post.objects.filter(reply_to=answer).count() == 1


def test_replies_to_hidden_pending_or_other_jams_posts_are_refused(room, settings) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser

    from jamhost.posts.post_moderation import post_hide
    from tests.audience.conftest import Room

    settings.X_CLIENT_ID = "client"  # the jam runs on X: X's limit applies
    answer = room.answer()
    other = Room()
    with pytest.raises(ValidationError, match="another jam"):
        reply_compose(jam=other.jam, user=room.others[0], parent_id=answer.pk, body="x")
    with pytest.raises(PermissionDenied, match="Log in"):
        reply_compose(jam=room.jam, user=AnonymousUser(), parent_id=answer.pk, body="x")
    with pytest.raises(ValidationError):
        reply_compose(jam=room.jam, user=room.others[0], parent_id=answer.pk, body="  ")
    with pytest.raises(ValidationError, match="Shorten"):
        reply_compose(jam=room.jam, user=room.others[0], parent_id=answer.pk, body="x" * 300)
    post_hide(jam=room.jam, actor=room.moderator, post_id=answer.pk)
    with pytest.raises(ValidationError, match="not shown"):
        reply_compose(jam=room.jam, user=room.others[0], parent_id=answer.pk, body="x")
    assert not Post.objects.filter(reply_to=answer).exists()


def test_on_x_a_reply_mentions_the_author_only_when_they_are_in_the_jam_on_x(room) -> None:  # type: ignore[no-untyped-def]
    from jamhost.networks.models import XAccount

    from_x = post_insert(
        jam=room.jam,
        body="Seen on X",
        text=f"Seen on X #{room.jam.hashtag}",
        author_role="participant",
        author_key="x:42",
        author_handle="xperson",
        source=Source.X,
        external_id="42",
    )
    reply = reply_compose(jam=room.jam, user=room.others[0], parent_id=from_x.pk, body="Nice")
    assert reply.text == f"@xperson Nice #{room.jam.hashtag}"
    assert reply.body == "Nice"

    # A jamhost author with X linked is mentioned by their X handle; without, not at all.
    XAccount.objects.create(
        user=room.panelist,
        x_user_id="777",
        username="panel_on_x",
        access_token="-",
        expires_at=timezone.now() + timedelta(hours=2),
    )
    answer = room.answer()
    reply = reply_compose(jam=room.jam, user=room.others[0], parent_id=answer.pk, body="Yes")
    assert reply.text.startswith("@panel_on_x Yes")
    plain = room.question("Anyone?")
    reply = reply_compose(jam=room.jam, user=room.others[0], parent_id=plain.pk, body="Me")
    assert "@" not in reply.text


def test_the_transcript_snapshot_keeps_replies_with_their_parent(room) -> None:  # type: ignore[no-untyped-def]
    from jamhost.transcripts.snapshot import snapshot_build

    answer = room.answer()
    reply = reply_compose(jam=room.jam, user=room.others[0], parent_id=answer.pk, body="Yes")
    snapshot = snapshot_build(room.jam)
    entry = next(p for p in snapshot["posts"] if p["seq"] == reply.seq)
    assert entry["reply_to"] == answer.seq
    assert (
        entry["question"]
        == next(p for p in snapshot["posts"] if p["seq"] == answer.seq)["question"]
    )


def test_the_transcript_shows_replies_right_under_their_parent(room) -> None:  # type: ignore[no-untyped-def]
    from jamhost.transcripts.layout import player_bounds, transcript_layout
    from jamhost.transcripts.parts import rendering_all
    from jamhost.transcripts.snapshot import snapshot_build, snapshot_sections

    question = room.question("Will there be slides?")
    answer = room.answer("Slides after the jam.")
    later = room.answer("Another answer.")
    side = reply_compose(jam=room.jam, user=room.others[0], parent_id=question.pk, body="+1")
    panel_side = reply_compose(jam=room.jam, user=room.panelist, parent_id=question.pk, body="Yes")
    snapshot = snapshot_build(room.jam)
    sections = snapshot_sections(snapshot)
    # "Other posts" (the audience question) come before Q1's answers; its conversation is
    # threaded under it, not listed among the answers (the panelist's reply neither).
    assert [p["seq"] for s in sections for p in s.answers] == [question.seq, answer.seq, later.seq]
    other = sections[0]
    assert [p["seq"] for p in other.thread(other.answers[0])] == [side.seq, panel_side.seq]
    layout = transcript_layout(snapshot, start=player_bounds(snapshot).start)
    html = rendering_all(snapshot, layout)["other/1"]
    assert f'data-reply-to="{question.seq}"' in html and f'href="#post-{question.seq}"' in html
    block = html.index('<div class="replies" role="group" aria-label="Replies to @')
    assert html.index(f'id="post-{question.seq}"') < block < html.index(f'id="post-{side.seq}"')


def test_a_reply_by_someone_with_x_linked_is_queued_for_x(room, settings) -> None:  # type: ignore[no-untyped-def]
    from jamhost.networks.models import Publication, XAccount

    settings.X_CLIENT_ID = "test-client"
    replier = room.others[0]
    XAccount.objects.create(
        user=replier,
        x_user_id="888",
        username="replier_x",
        access_token="-",
        expires_at=timezone.now() + timedelta(hours=2),
    )
    answer = room.answer()
    reply = reply_compose(jam=room.jam, user=replier, parent_id=answer.pk, body="On X too")
    assert on_x(reply).status == XStatus.QUEUED
    assert Publication.objects.filter(post=reply, done=False).exists()
    # Published as a standalone post: its own text, no reply or quote reference to keep.
    assert reply.text == f"On X too #{room.jam.hashtag}"
