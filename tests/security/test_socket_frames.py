"""Bad websocket frames: garbage, huge, binary, wrong JSON, unknown actions and actions
aimed at another jam. The consumer answers with a plain notice or ignores the frame, and
stays alive: a real action or a new post still gets through afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jamhost.posts.models import Post, PostStatus
from jamhost.posts.services import post_compose
from tests.factories import live_jam
from tests.live.conftest import POST_ID, receive_until_caught_up, socket
from tests.security.conftest import make_cast
from tests.security.naughty import NAUGHTY

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
ACTION_NAMES = ["hide", "pin", "approve", "restore", "block", "mode", "muted_words", "feature"]
actions = st.fixed_dictionaries(
    {"action": st.sampled_from(ACTION_NAMES) | st.text(max_size=30)},
    optional={
        "post": json_values,
        "key": json_values,
        "mode": json_values,
        "words": json_values,
        "author": json_values,
    },
)


def garbage_frames() -> list[str | bytes]:
    # (An empty frame cannot be sent through channels' test communicator.)
    frames: list[str | bytes] = [
        " ",
        "{",
        "null",
        "[]",
        "42",
        '"action"',
        '{"action": null}',
        '{"action": ["hide"]}',
        '{"action": "hide", "post": {"$gt": 0}}',
        '{"action": "hide", "post": 1e309}',
        '{"action": "hide", "post": "NaN"}',
        '{"action": "self_destruct"}',
        "x" * 100_000,
        json.dumps({"action": "hide", "post": 1, "pad": "x" * 100_000}),
        b"\x00\xff\xfe binary",
        b"\x00",
    ]
    frames += [json.dumps({"action": s, "post": s, "key": s}) for s in NAUGHTY]
    frames += [s for s in NAUGHTY if s]
    return frames


def is_object(frame: str | bytes) -> bool:
    if isinstance(frame, bytes) or len(frame) > 16_384:
        return False
    try:
        return isinstance(json.loads(frame), dict)
    except ValueError:
        return False


async def _send(ws: Any, frame: str | bytes) -> None:
    if isinstance(frame, bytes):
        await ws.send_to(bytes_data=frame)
    else:
        await ws.send_to(text_data=frame)


async def _notice(ws: Any) -> str:
    """The next console notice (other frames, such as presence counts, are skipped)."""
    for _ in range(20):
        frame = await ws.receive_from(timeout=10)
        if "console-notice" in frame:
            return str(frame)
    raise AssertionError("no console notice came back")


async def _drain(ws: Any) -> list[str]:
    frames = []
    while not await ws.receive_nothing(timeout=0.05, interval=0.01):
        frames.append(await ws.receive_from())
    return frames


async def test_console_survives_garbage_and_says_why(hub: Any) -> None:
    cast = await sync_to_async(make_cast)()
    post = await sync_to_async(post_compose)(
        jam=cast.jam, user=cast.users["participant"], body="still here"
    )
    ws = socket(f"/ws/jams/{cast.jam.slug}/console/?after=0", cast.users["moderator"])
    assert (await ws.connect())[0]
    await receive_until_caught_up(ws)
    notices = []
    for frame in garbage_frames():
        await _send(ws, frame)
        if is_object(frame):  # a JSON object is answered, whatever is wrong with it
            notices.append(await _notice(ws))
    await _drain(ws)  # (presence counts and the like may arrive meanwhile)
    # Every well-formed JSON object got a notice saying what was wrong with it.
    assert notices and all('class="console-notice error"' in n for n in notices), [
        n for n in notices if "console-notice error" not in n
    ]
    assert any("There is no console action" in n for n in notices)
    # Still alive: a real action works and its outcome comes back.
    await ws.send_json_to({"action": "hide", "post": post.pk, "key": "after-garbage"})
    # Under load a garbage frame's late notice may come first: error notices are skipped,
    # and a hide that failed never sends an ok one (the wait then times out).
    notice = await _notice(ws)
    while "console-notice ok" not in notice:
        notice = await _notice(ws)
    await ws.disconnect()
    assert "console-notice ok" in notice, notice
    assert (await sync_to_async(Post.objects.get)(pk=post.pk)).status == PostStatus.HIDDEN


async def test_actions_for_another_jam_change_nothing_there(hub: Any) -> None:
    cast = await sync_to_async(make_cast)()
    other = await sync_to_async(live_jam)()
    theirs = await sync_to_async(post_compose)(
        jam=other, user=cast.users["participant"], body="in another jam"
    )
    ws = socket(f"/ws/jams/{cast.jam.slug}/console/?after=0", cast.users["moderator"])
    assert (await ws.connect())[0]
    await receive_until_caught_up(ws)
    for action in ("hide", "pin", "feature", "approve"):
        await ws.send_json_to({"action": action, "post": theirs.pk, "key": f"x-{action}"})
        notice = await _notice(ws)
        assert "console-notice error" in notice, notice
    await ws.disconnect()
    theirs = await sync_to_async(Post.objects.get)(pk=theirs.pk)
    assert (theirs.status, theirs.pinned, theirs.featured) == (PostStatus.VISIBLE, False, False)


async def test_viewer_socket_ignores_garbage_and_actions_and_keeps_streaming(hub: Any) -> None:
    cast = await sync_to_async(make_cast)()
    mine = await sync_to_async(post_compose)(
        jam=cast.jam, user=cast.users["participant"], body="viewers cannot hide me"
    )
    ws = socket(f"/ws/jams/{cast.jam.slug}/live/?after=0")
    assert (await ws.connect())[0]
    await receive_until_caught_up(ws)
    for frame in garbage_frames():
        await _send(ws, frame)
    await ws.send_json_to({"action": "hide", "post": mine.pk})
    assert await ws.receive_nothing(timeout=0.3)
    fresh = await sync_to_async(post_compose)(
        jam=cast.jam, user=cast.users["panelist"], body="the stream goes on"
    )
    frame = await ws.receive_from(timeout=5)
    assert [int(i) for i in POST_ID.findall(frame)] == [fresh.pk]
    await ws.disconnect()
    assert (await sync_to_async(Post.objects.get)(pk=mine.pk)).status == PostStatus.VISIBLE


@pytest.mark.parametrize("path", ["live", "console"])
async def test_hypothesis_frames_never_kill_a_socket(path: str, hub: Any) -> None:
    cast = await sync_to_async(make_cast)()
    ws = socket(f"/ws/jams/{cast.jam.slug}/{path}/?after=0", cast.users["host"])
    assert (await ws.connect())[0]
    await receive_until_caught_up(ws)
    sent: list[Any] = []

    @hsettings(
        max_examples=150,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(frame=actions | json_values | st.text(max_size=300) | st.binary(max_size=300))
    def collect(frame: Any) -> None:
        sent.append(frame)

    collect()
    for frame in sent:
        if isinstance(frame, bytes):
            if frame:
                await ws.send_to(bytes_data=frame)
        elif isinstance(frame, str):
            if frame:
                await ws.send_to(text_data=frame)
        else:
            await ws.send_to(text_data=json.dumps(frame))
    # Whatever came back (notices on the console), the socket must still be streaming.
    await _drain(ws)
    fresh = await sync_to_async(post_compose)(
        jam=cast.jam, user=cast.users["panelist"], body="alive after hypothesis"
    )
    seen: list[int] = []
    for _ in range(20):
        seen += [int(i) for i in POST_ID.findall(await ws.receive_from(timeout=5))]
        if fresh.pk in seen:
            break
    await ws.disconnect()
    assert fresh.pk in seen
    assert len(sent) >= 100
