"""The live room's sockets: fan-out, catch-up without gaps or duplicates, audiences."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from jamhost.jams.models import Role
from jamhost.jams.people import membership_remove
from jamhost.jams.run_sheet import question_release
from jamhost.posts.models import Post, PostStatus
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.live.conftest import (
    REMOVED,
    post_ids,
    receive_frames,
    receive_post_ids,
    receive_until_caught_up,
    socket,
)

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def make_jam(**kwargs: object):  # type: ignore[no-untyped-def]
    jam = live_jam(**kwargs)
    moderator = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    return jam, moderator, panelist


compose = database_sync_to_async(post_compose)


@database_sync_to_async
def hide(post: Post) -> Post:
    # Moderation services arrive with the console; here a post is hidden the same way:
    # a new rev inside the transaction, published after commit.
    from django.db import transaction

    from jamhost.jams.counters import jam_next_rev
    from jamhost.live.publish import post_changed_on_commit

    with transaction.atomic():
        _, post.rev = jam_next_rev(jam_id=post.jam_id)
        post.status = PostStatus.HIDDEN
        post.save(update_fields=["rev", "status"])
        post_changed_on_commit(post)
    return post


async def test_viewer_and_moderator_both_receive_a_new_post(hub: object) -> None:
    jam, moderator, panelist = await make_jam()
    viewer = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    console = socket(f"/ws/jams/{jam.slug}/console/?after={jam.rev}", moderator)
    assert (await viewer.connect())[0] and (await console.connect())[0]
    await receive_until_caught_up(viewer)
    await receive_until_caught_up(console)

    post = await compose(jam=jam, user=panelist, body="Live answer")

    viewer_frame, console_frame = (await viewer.receive_from(2)), (await console.receive_from(2))
    assert f'id="post-{post.pk}"' in viewer_frame and "Live answer" in viewer_frame
    assert f'data-rev="{post.rev}"' in viewer_frame
    assert f'id="post-{post.pk}"' in console_frame
    assert "post-mod" in console_frame and "post-mod" not in viewer_frame
    await viewer.disconnect()
    await console.disconnect()


async def test_many_viewers_get_every_post_once_in_order(hub: object) -> None:
    jam, _, panelist = await make_jam()
    viewers = [socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}") for _ in range(5)]
    for v in viewers:
        assert (await v.connect())[0]
        await receive_until_caught_up(v)
    posts = [await compose(jam=jam, user=panelist, body=f"n{i}") for i in range(10)]
    expected = [p.pk for p in posts]
    for v in viewers:
        assert await receive_post_ids(v, 10) == expected
        assert await v.receive_nothing(0.2)
        await v.disconnect()


async def test_reconnect_with_an_old_rev_gets_exactly_the_missed_posts(hub: object) -> None:
    jam, _, panelist = await make_jam()
    first = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    assert (await first.connect())[0]
    await receive_until_caught_up(first)
    seen = await compose(jam=jam, user=panelist, body="seen")
    assert await receive_post_ids(first, 1) == [seen.pk]
    await first.disconnect()

    missed = [await compose(jam=jam, user=panelist, body=f"missed {i}") for i in range(3)]

    again = socket(f"/ws/jams/{jam.slug}/live/?after={seen.rev}")
    assert (await again.connect())[0]
    frames = await receive_until_caught_up(again)
    assert post_ids(frames) == [p.pk for p in missed]
    live = await compose(jam=jam, user=panelist, body="after reconnect")
    assert await receive_post_ids(again, 1) == [live.pk]
    assert await again.receive_nothing(0.3)
    await again.disconnect()


async def test_hidden_posts_never_reach_viewers_and_vanish_when_hidden(hub: object) -> None:
    jam, moderator, panelist = await make_jam()
    viewer = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    console = socket(f"/ws/jams/{jam.slug}/console/?after={jam.rev}", moderator)
    await viewer.connect()
    await console.connect()
    await receive_until_caught_up(viewer)
    await receive_until_caught_up(console)

    post = await compose(jam=jam, user=panelist, body="soon hidden")
    await viewer.receive_from(2)
    await console.receive_from(2)
    await hide(post)
    removal = await viewer.receive_from(2)
    assert REMOVED.findall(removal) == [str(post.pk)] and "soon hidden" not in removal
    console_frame = await console.receive_from(2)
    assert "soon hidden" in console_frame and 'data-status="hidden"' in console_frame

    # A viewer arriving later, from the start, never receives the hidden text.
    late = socket(f"/ws/jams/{jam.slug}/live/?after=0")
    await late.connect()
    frames = await receive_until_caught_up(late)
    assert post.pk not in post_ids(frames)
    assert all("soon hidden" not in f for f in frames)
    for ws in (viewer, console, late):
        await ws.disconnect()


async def test_pre_moderated_post_reaches_moderators_only(hub: object) -> None:
    jam, moderator, _ = await make_jam(moderation_mode="pre")
    participant = await database_sync_to_async(UserFactory)()
    viewer = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    console = socket(f"/ws/jams/{jam.slug}/console/?after={jam.rev}", moderator)
    await viewer.connect()
    await console.connect()
    await receive_until_caught_up(viewer)
    await receive_until_caught_up(console)
    post = await compose(jam=jam, user=participant, body="please approve")
    assert "please approve" in await console.receive_from(2)
    viewer_frame = await viewer.receive_from(2)
    assert "please approve" not in viewer_frame and REMOVED.findall(viewer_frame) == [str(post.pk)]
    await viewer.disconnect()
    await console.disconnect()


async def test_question_release_updates_the_header_for_everyone(hub: object) -> None:
    jam, _, _ = await make_jam(questions=3, released=1)
    viewer = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    await viewer.connect()
    await receive_until_caught_up(viewer)
    q2 = await database_sync_to_async(lambda: jam.questions.get(number=2))()
    await database_sync_to_async(question_release)(question=q2)
    frame = await viewer.receive_from(2)
    assert 'id="jam-header"' in frame and q2.text in frame
    assert f"Q2: {q2.text} #{jam.hashtag}" in frame
    await viewer.disconnect()


async def test_non_moderators_cannot_join_the_console(hub: object) -> None:
    jam, _, panelist = await make_jam()
    participant = await database_sync_to_async(UserFactory)()
    for user in (None, participant, panelist):
        ws = socket(f"/ws/jams/{jam.slug}/console/", user)
        connected, code = await ws.connect()
        assert not connected and code == 4403


async def test_unknown_jam_is_refused() -> None:
    ws = socket("/ws/jams/no-such-jam/live/")
    connected, code = await ws.connect()
    assert not connected and code == 4404


async def test_removed_moderator_is_cut_off(hub: object) -> None:
    jam, moderator, _ = await make_jam()
    console = socket(f"/ws/jams/{jam.slug}/console/?after={jam.rev}", moderator)
    assert (await console.connect())[0]
    await receive_until_caught_up(console)
    host = await database_sync_to_async(lambda: jam.host)()
    await database_sync_to_async(membership_remove)(jam=jam, user_id=moderator.pk, actor=host)
    output = await console.receive_output(2)
    assert output == {"type": "websocket.close", "code": 4403}


@pytest.mark.parametrize(
    "frame", ["not json", "[1,2]", '{"action": "hide", "post": 1}', "x" * 20000, "{}"]
)
async def test_malformed_frames_are_ignored_and_the_socket_lives(hub: object, frame: str) -> None:
    jam, _, panelist = await make_jam()
    viewer = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    await viewer.connect()
    await receive_until_caught_up(viewer)
    await viewer.send_to(text_data=frame)
    await viewer.send_to(bytes_data=b"\x00\xff")
    post = await compose(jam=jam, user=panelist, body="still alive")
    assert await receive_post_ids(viewer, 1) == [post.pk]
    await viewer.disconnect()


async def test_bad_after_values_mean_from_the_start(hub: object) -> None:
    jam, _, _ = await make_jam()
    for query in ("after=abc", "after=-5", "after=99999999"):
        ws = socket(f"/ws/jams/{jam.slug}/live/?{query}")
        assert (await ws.connect())[0]
        frames = await receive_until_caught_up(ws)
        assert len(post_ids(frames)) == 1  # the Q1 release
        await ws.disconnect()


async def test_a_slow_socket_is_closed_with_1013(hub: object, settings: object) -> None:
    settings.LIVE_SOCKET_BACKLOG = 3  # type: ignore[attr-defined]
    jam, _, panelist = await make_jam()
    ws = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    await ws.connect()
    await receive_until_caught_up(ws)
    consumer_group = hub.groups[(jam.pk, "viewer")]  # type: ignore[attr-defined]
    (consumer,) = consumer_group.sockets
    consumer.catching_up = True  # stands in for a client that reads nothing
    for i in range(4):
        await compose(jam=jam, user=panelist, body=f"flood {i}")
    await asyncio.sleep(0.2)
    output = await ws.receive_output(2)
    assert output == {"type": "websocket.close", "code": 1013}


async def test_a_change_the_process_did_not_hear_arrives_by_the_periodic_check(
    hub: object,
) -> None:
    jam, _, panelist = await make_jam()
    ws = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    await ws.connect()
    await receive_until_caught_up(ws)
    # Published through another route (as if by a process this hub cannot hear).
    with override_settings(LIVE_FANOUT="layer"):
        unheard = await compose(jam=jam, user=panelist, body="unheard")
    assert await receive_post_ids(ws, 1, timeout=3) == [unheard.pk]
    heard = await compose(jam=jam, user=panelist, body="heard")
    assert await receive_post_ids(ws, 1) == [heard.pk]
    await ws.disconnect()


async def test_out_of_order_frames_are_delivered_in_rev_order(hub: object) -> None:
    from jamhost.live.fanout import get_hub

    jam, _, _ = await make_jam()
    ws = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    await ws.connect()
    await receive_until_caught_up(ws)
    live_hub = get_hub()
    group = live_hub.groups[(jam.pk, "viewer")]
    base = group.last_rev
    live_hub.feed(
        jam.pk, "viewer", base + 2, ((None, f'<div id="x2" data-rev="{base + 2}"></div>'),)
    )
    live_hub.feed(
        jam.pk, "viewer", base + 1, ((None, f'<div id="x1" data-rev="{base + 1}"></div>'),)
    )
    frames = await receive_frames(ws, 2)
    assert 'id="x1"' in frames[0] and 'id="x2"' in frames[1]
    await ws.disconnect()


async def test_a_draft_jams_socket_is_refused_to_outsiders(hub: object) -> None:
    from tests.factories import JamFactory

    jam = await database_sync_to_async(JamFactory)()
    outsider = await database_sync_to_async(UserFactory)()
    for user in (None, outsider):
        connected, code = await socket(f"/ws/jams/{jam.slug}/live/", user).connect()
        assert not connected and code == 4403
    host = await database_sync_to_async(lambda: jam.host)()
    ws = socket(f"/ws/jams/{jam.slug}/live/", host)
    assert (await ws.connect())[0]
    await ws.disconnect()


async def test_a_gap_found_by_a_frame_published_from_a_sync_thread_is_filled(
    hub: object, settings: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Embedded default: posts are committed in sync_to_async's thread, which hands the
    frame to the hub. A gap found there was filled by a task inheriting that thread's
    context, whose every database call failed ("would deadlock"): one warning per frame,
    and the frames stuck until the periodic check."""
    settings.LIVE_RESYNC_INTERVAL = 600  # only the gap wait may fill the gap
    jam, _, panelist = await make_jam()
    ws = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    await ws.connect()
    await receive_until_caught_up(ws)
    with override_settings(LIVE_FANOUT="layer"):  # a frame this process never hears
        unheard = await compose(jam=jam, user=panelist, body="unheard")
    heard = await compose(jam=jam, user=panelist, body="heard")  # published from the thread
    assert sorted(await receive_post_ids(ws, 2, timeout=5)) == sorted([unheard.pk, heard.pk])
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "resync" in m and "failed" in m], messages
    await ws.disconnect()
