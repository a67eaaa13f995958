"""Audience changes reach every screen through the one live path: sockets, catch-up."""

from __future__ import annotations

import json
import re

import pytest
from channels.db import database_sync_to_async

from jamhost.audience.flags import flag_add
from jamhost.audience.replies import reply_compose
from jamhost.audience.votes import vote_add, vote_remove
from jamhost.posts.models import Post
from tests.audience.conftest import Room
from tests.live.conftest import REMOVED, post_ids, receive_until_caught_up, socket

pytestmark = [pytest.mark.django_db(transaction=True)]

make_room = database_sync_to_async(Room)
vote = database_sync_to_async(vote_add)
unvote = database_sync_to_async(vote_remove)
flag = database_sync_to_async(flag_add)
reply = database_sync_to_async(reply_compose)


def upvotes_in(frame: str, post_id: int) -> int:
    match = re.search(rf'id="post-{post_id}"[^>]*data-upvotes="(\d+)"', frame)
    assert match, frame[:300]
    return int(match.group(1))


async def upvotes_reach(ws: object, post_id: int, counts: list[int]) -> None:
    """Frames show the post's upvotes going through `counts` in order, ending at the last.

    The hub may coalesce: a resync from the database (under load, a late Redis frame) sends
    the current state, so an intermediate count can be skipped, but never a count out of
    order, and never a frame after the last count."""
    seen: list[int] = []
    while not seen or seen[-1] != counts[-1]:
        seen.append(upvotes_in(await ws.receive_from(2), post_id))  # type: ignore[attr-defined]
        assert seen[-1] in counts, (seen, counts)
    indexes = [counts.index(count) for count in seen]
    assert indexes == sorted(set(indexes)), (seen, counts)


async def connect(room: Room) -> tuple[object, object]:
    viewer = socket(f"/ws/jams/{room.jam.slug}/live/?after={room.jam.rev}")
    console = socket(f"/ws/jams/{room.jam.slug}/console/?after={room.jam.rev}", room.moderator)
    assert (await viewer.connect())[0] and (await console.connect())[0]
    await receive_until_caught_up(viewer)
    await receive_until_caught_up(console)
    return viewer, console


async def test_vote_counts_reach_every_other_socket(hub: object) -> None:
    room = await make_room()
    question = await database_sync_to_async(room.question)()
    viewer, console = await connect(room)
    watcher = socket(f"/ws/jams/{room.jam.slug}/live/?after={room.jam.rev}")
    assert (await watcher.connect())[0]
    await receive_until_caught_up(watcher)

    await vote(post_id=question.pk, user=room.others[0])
    await vote(post_id=question.pk, user=room.others[1])
    for ws in (viewer, console, watcher):
        await upvotes_reach(ws, question.pk, [1, 2])
    await unvote(post_id=question.pk, user=room.others[0])
    assert upvotes_in(await watcher.receive_from(2), question.pk) == 1
    # A repeated vote changes nothing, so nothing is sent.
    await vote(post_id=question.pk, user=room.others[1])
    assert await watcher.receive_nothing(0.3)
    for ws in (viewer, console, watcher):
        await ws.disconnect()


async def test_a_viewer_socket_cannot_vote(hub: object) -> None:
    room = await make_room()
    question = await database_sync_to_async(room.question)()
    viewer = socket(f"/ws/jams/{room.jam.slug}/live/?after={room.jam.rev}", room.others[0])
    assert (await viewer.connect())[0]
    await receive_until_caught_up(viewer)
    await viewer.send_to(text_data=json.dumps({"action": "vote", "post": question.pk}))
    assert await viewer.receive_nothing(0.3)
    fresh = await database_sync_to_async(Post.objects.get)(pk=question.pk)
    assert fresh.upvotes == 0
    await viewer.disconnect()


async def test_the_flag_threshold_takes_a_post_off_viewers_screens(hub: object) -> None:
    room = await make_room()
    room.jam.flag_threshold = 2
    await database_sync_to_async(room.jam.save)(update_fields=["flag_threshold"])
    post = await database_sync_to_async(room.answer)("Spammy answer")
    viewer, console = await connect(room)

    await flag(post_id=post.pk, user=room.others[0], reason="spam")
    assert "Spammy answer" in await viewer.receive_from(2)  # still shown, one flag
    first = await console.receive_from(2)
    assert "⚑ 1 flag: spam 1" in first

    await flag(post_id=post.pk, user=room.others[1], reason="abuse")
    removal = await viewer.receive_from(2)
    assert REMOVED.findall(removal) == [str(post.pk)] and "Spammy" not in removal
    pending = await console.receive_from(2)
    assert 'data-status="pending"' in pending and "flagged by 2" in pending
    for ws in (viewer, console):
        await ws.disconnect()


async def test_replies_arrive_live_and_in_catch_up_after_their_parent(hub: object) -> None:
    room = await make_room()
    answer = await database_sync_to_async(room.answer)("Parent answer")
    start = answer.rev - 1
    viewer, console = await connect(room)

    side = await reply(jam=room.jam, user=room.others[0], parent_id=answer.pk, body="Side talk")
    frame = await viewer.receive_from(2)
    assert f'id="post-{side.pk}"' in frame and f'data-reply-to="{answer.pk}"' in frame
    assert f'data-reply-to="{answer.pk}"' in await console.receive_from(2)

    late = socket(f"/ws/jams/{room.jam.slug}/live/?after={start}")
    assert (await late.connect())[0]
    frames = await receive_until_caught_up(late)
    assert post_ids(frames) == [answer.pk, side.pk]
    for ws in (viewer, console, late):
        await ws.disconnect()
