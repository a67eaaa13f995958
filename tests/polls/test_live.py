"""A poll's changes reach every screen on the posts' live path: pushed to open sockets as
they happen, and replayed by catch-up (from the hub's history and from the database) in
their newest state only, without gaps or duplicates."""

from __future__ import annotations

import re
from typing import Any

import pytest
from channels.db import database_sync_to_async

from jamhost.live.catchup import frames_after, parts_after
from jamhost.polls.live import poll_key
from jamhost.polls.services import poll_close, poll_vote
from jamhost.posts.render import MODERATOR, VIEWER
from tests.live.conftest import receive_until_caught_up, socket
from tests.polls.conftest import PollRoom

make_room = database_sync_to_async(PollRoom)
vote = database_sync_to_async(poll_vote)


def bars(frame: str, poll_id: int) -> list[int]:
    """The vote count of each option in the poll's fragment inside a frame."""
    section = re.search(
        rf'<section class="poll[^"]*" id="poll-{poll_id}".*?</section>', frame, re.S
    )
    assert section, frame[:300]
    return [int(n) for n in re.findall(r'data-votes="(\d+)"', section.group(0))]


async def poll_frame(ws: object, poll_id: int) -> str:
    """The next frame carrying the poll (the console also gets viewer counts)."""
    while True:
        frame = await ws.receive_from(2)  # type: ignore[attr-defined]
        if f'id="poll-{poll_id}"' in frame:
            return frame


def rev_of(frame: str) -> int:
    found = re.search(r'data-rev="(\d+)"', frame)
    assert found, frame[:200]
    return int(found.group(1))


@pytest.mark.django_db(transaction=True)
async def test_launch_and_votes_reach_viewers_and_the_console(hub: object) -> None:
    room = await make_room()
    viewer = socket(f"/ws/jams/{room.jam.slug}/live/?after={room.jam.rev}")
    console = socket(f"/ws/jams/{room.jam.slug}/console/?after={room.jam.rev}", room.moderator)
    assert (await viewer.connect())[0] and (await console.connect())[0]
    await receive_until_caught_up(viewer)
    await receive_until_caught_up(console)

    poll = await database_sync_to_async(room.launch)()
    for ws in (viewer, console):
        frame = await poll_frame(ws, poll.pk)
        assert 'data-state="open"' in frame and bars(frame, poll.pk) == [0, 0, 0]
    await vote(poll_id=poll.pk, user=room.voters[0], option=2)
    await vote(poll_id=poll.pk, user=room.voters[1], option=2)
    await vote(poll_id=poll.pk, user=room.voters[0], option=3)  # changed their mind
    for ws in (viewer, console):
        assert bars(await poll_frame(ws, poll.pk), poll.pk) == [0, 1, 0]
        assert bars(await poll_frame(ws, poll.pk), poll.pk) == [0, 2, 0]
        assert bars(await poll_frame(ws, poll.pk), poll.pk) == [0, 1, 1]
    # The same vote again changes nothing, so nothing is sent.
    await vote(poll_id=poll.pk, user=room.voters[1], option=2)
    assert await viewer.receive_nothing(0.3)
    await database_sync_to_async(poll_close)(poll=poll)
    assert 'data-state="closed"' in await viewer.receive_from(2)
    for ws in (viewer, console):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_viewer_reconnecting_gets_the_poll_once_in_its_newest_state(hub: object) -> None:
    room = await make_room()
    start = room.jam.rev
    watcher = socket(f"/ws/jams/{room.jam.slug}/live/?after={start}")
    assert (await watcher.connect())[0]
    await receive_until_caught_up(watcher)
    poll = await database_sync_to_async(room.launch)()
    for voter, option in zip(room.voters, (1, 1, 2, 1), strict=True):
        await vote(poll_id=poll.pk, user=voter, option=option)
    for _ in range(5):
        await watcher.receive_from(2)
    # A socket that left before the poll opened comes back: the hub's history holds the
    # poll's five frames; catch-up sends the newest only.
    late = socket(f"/ws/jams/{room.jam.slug}/live/?after={start}")
    assert (await late.connect())[0]
    frames = await receive_until_caught_up(late)
    text = "".join(frames)
    assert text.count(f'id="poll-{poll.pk}"') == 1
    assert bars(text, poll.pk) == [3, 1, 0]
    await watcher.disconnect()
    await late.disconnect()


@pytest.mark.django_db
def test_catch_up_from_the_database_replays_polls_in_rev_order() -> None:
    room = PollRoom()
    start = room.jam.rev
    poll = room.launch()
    poll_vote(poll_id=poll.pk, user=room.voters[0], option=3)
    for audience in (VIEWER, MODERATOR):
        upto, frames = frames_after(jam_id=room.jam.pk, audience=audience, after=start)
        assert upto == start + 2
        assert [rev for rev, _ in frames] == [start + 2]  # the poll once, at its newest rev
        assert bars(frames[0][1], poll.pk) == [0, 0, 1]
    # A cursor past the poll's change gets nothing of it.
    assert frames_after(jam_id=room.jam.pk, audience=VIEWER, after=start + 2)[1] == []


@pytest.mark.django_db
def test_a_poll_frame_is_keyed_so_the_hub_keeps_only_its_newest_state(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    published: list[dict[str, Any]] = []
    monkeypatch.setattr("jamhost.polls.live.bus.publish", lambda **kw: published.append(kw))
    room = PollRoom()
    with django_capture_on_commit_callbacks(execute=True):
        poll = room.launch()
    # On the bus: one part per audience, named by the poll's key beside its html.
    sent = [p for p in published if p["rev"] == poll.rev]
    assert len(sent) == 1
    for audience in (VIEWER, MODERATOR):
        ((key, html),) = sent[0]["frames"][audience]
        assert key == poll_key(poll.pk) and rev_of(html) == poll.rev
    # In catch-up from the database: the same key.
    _, parts = parts_after(jam_id=room.jam.pk, audience=VIEWER, after=poll.rev - 1)
    assert [(rev, key) for rev, key, _ in parts] == [(poll.rev, poll_key(poll.pk))]
