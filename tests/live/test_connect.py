"""What a socket needs at connect, shared by the process's sockets: the jam read once for
sockets asking together, catch-up from the hub's recent frames (older cursors from the
database, once per cursor), and no user read for viewers of a jam open to all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils.functional import empty

from jamhost.jams import run_sheet
from jamhost.jams.models import Jam, Role
from jamhost.live import history
from jamhost.live.auth import SocketAuthMiddlewareStack
from jamhost.live.fanout import Shared
from jamhost.live.frames import frame_decode, frame_encode
from jamhost.live.routing import websocket_urlpatterns
from jamhost.posts.models import Kind, Post
from jamhost.posts.post_moderation import post_hide
from jamhost.posts.render import VIEWER
from jamhost.posts.services import post_compose
from tests.factories import JamFactory, MembershipFactory, live_jam
from tests.live.conftest import (
    post_ids,
    receive_frames,
    receive_post_ids,
    receive_until_caught_up,
    socket,
)

compose = database_sync_to_async(post_compose)


@database_sync_to_async
def hide(jam: Jam, post_id: int) -> None:
    post_hide(jam=jam, actor=jam.host, post_id=post_id)


@database_sync_to_async
def make_jam() -> tuple[Jam, Any]:
    jam = live_jam()
    return jam, MembershipFactory(jam=jam, role=Role.PANELIST).user


# Shared calls -------------------------------------------------------------------------------


def on_a_fresh_loop(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """A scenario without the database on its own loop in its own thread: such tests run
    after the browser tests, whose Playwright holds the main thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result(timeout=10)


def test_concurrent_calls_with_one_key_share_one_call() -> None:
    on_a_fresh_loop(_concurrent_calls_with_one_key_share_one_call)


def test_a_failed_shared_call_fails_every_waiter_and_the_next_call_retries() -> None:
    on_a_fresh_loop(_a_failed_shared_call_fails_every_waiter_and_the_next_call_retries)


async def _concurrent_calls_with_one_key_share_one_call() -> None:
    shared = Shared()
    calls = []

    async def read(value: int) -> list[int]:
        calls.append(value)
        await asyncio.sleep(0.01)
        return [value]

    results = await asyncio.gather(*(shared("k", lambda: read(1)) for _ in range(20)))
    assert calls == [1] and all(r is results[0] for r in results)
    other = await asyncio.gather(shared("k2", lambda: read(2)), shared("k3", lambda: read(3)))
    assert other == [[2], [3]]
    # Nothing is kept once the call ended: a later call reads again.
    assert await shared("k", lambda: read(4)) == [4]
    assert calls == [1, 2, 3, 4]


async def _a_failed_shared_call_fails_every_waiter_and_the_next_call_retries() -> None:
    shared = Shared()

    async def broken() -> int:
        await asyncio.sleep(0.01)
        raise ConnectionError("database gone")

    results = await asyncio.gather(*(shared("k", broken) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)

    async def fine() -> int:
        return 7

    assert await shared("k", fine) == 7


@pytest.mark.django_db(transaction=True)
async def test_sockets_connecting_together_share_one_read_of_the_jam(hub: Any) -> None:
    jam, _ = await make_jam()
    found = await asyncio.gather(*(hub.jam(jam.slug) for _ in range(30)))
    assert found[0].pk == jam.pk and all(j is found[0] for j in found)
    assert await hub.jam("no-such-jam") is None


# Frames carry their keys beside their html ------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_published_frame_reaches_the_history_with_the_keys_its_publisher_named(
    hub: Any,
) -> None:
    """A question released makes one rev of two objects, the header and the host's post:
    they reach the hub as two parts keyed by the publisher, so the hub keeps them apart
    without reading the html."""
    jam, _ = await make_jam()
    watcher = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    assert (await watcher.connect())[0]
    await receive_until_caught_up(watcher)
    group = hub.groups[(jam.pk, VIEWER)]

    @database_sync_to_async
    def release() -> Post:
        question = run_sheet.question_add(jam=jam, text="Keys?", offset_minutes=1)
        run_sheet.question_release(question=question)
        return Post.objects.get(jam=jam, question=question, kind=Kind.QUESTION)

    post = await release()
    assert await receive_post_ids(watcher, 1) == [post.pk]
    assert [key for rev, key, _ in group.history if rev == post.rev] == [
        "header",
        f"post-{post.pk}",
    ]
    assert group.newest["header"] == group.newest[f"post-{post.pk}"] == post.rev
    await watcher.disconnect()


def test_the_redis_payload_carries_each_part_with_its_key() -> None:
    frame = (("header", '<section id="jam-header">Q1: a: b</section>'), ("post-7", "<p>x:y</p>"))
    payload = frame_encode(rev=12, sent_at=1700000000.5, frame=frame)
    assert payload.startswith("12@1700000000.500|header=")
    assert frame_decode(payload.encode()) == (12, 1700000000.5, frame)
    # A part's html may hold any character, the separators too.
    odd = ((None, "é=1,:|"), ("post-1", "<b>,=:</b>"))
    assert frame_decode(frame_encode(rev=1, sent_at=1.0, frame=odd).encode())[2] == odd
    # A payload without keys (an older publisher) is one part without a key.
    assert frame_decode(b"3@2.000:<p>hi</p>") == (3, 2.0, ((None, "<p>hi</p>"),))
    with pytest.raises(ValueError):
        frame_decode(b"3@2.000|post-1=99:<p>short</p>")


# Catch-up from the hub's history ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_catch_up_joins_the_database_part_and_the_recent_frames_without_gaps(
    hub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a history of 3 frames, a cursor from before the group's history gets the older
    posts from the database and the rest from memory: each post once, in rev order."""
    monkeypatch.setattr(history, "HISTORY", 3)
    jam, panelist = await make_jam()
    start = jam.rev
    watcher = socket(f"/ws/jams/{jam.slug}/live/?after={start}")
    assert (await watcher.connect())[0]
    await receive_until_caught_up(watcher)

    posts = [await compose(jam=jam, user=panelist, body=f"answer {i}") for i in range(8)]
    assert await receive_post_ids(watcher, 8) == [p.pk for p in posts]
    group = hub.groups[(jam.pk, VIEWER)]
    assert len(group.history) == 3 and group.history_start == posts[4].rev

    for after in (start, posts[2].rev, posts[4].rev, posts[6].rev):
        ws = socket(f"/ws/jams/{jam.slug}/live/?after={after}")
        assert (await ws.connect())[0]
        frames = await receive_until_caught_up(ws)
        assert post_ids(frames) == [p.pk for p in posts if p.rev > after]
        await ws.disconnect()

    live = await compose(jam=jam, user=panelist, body="after")
    assert await receive_post_ids(watcher, 1) == [live.pk]
    await watcher.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_post_hidden_since_is_not_sent_from_history_or_a_cached_slice(
    hub: Any,
) -> None:
    """Catch-up sends each object's newest state: the text of a post hidden after its
    frame was delivered (history) or after the database part was read and kept (the
    slice cache) never reaches a socket that joins later."""
    jam, panelist = await make_jam()
    early = await compose(jam=jam, user=panelist, body="early words")
    watcher = socket(f"/ws/jams/{jam.slug}/live/?after={early.rev}")
    assert (await watcher.connect())[0]  # the group starts here: `early` is older
    await receive_until_caught_up(watcher)
    recent = await compose(jam=jam, user=panelist, body="recent words")
    await receive_post_ids(watcher, 1)

    first = socket(f"/ws/jams/{jam.slug}/live/?after=0")
    assert (await first.connect())[0]
    frames = await receive_until_caught_up(first)
    assert {early.pk, recent.pk} <= set(post_ids(frames))
    await first.disconnect()

    await hide(jam, early.pk)
    await hide(jam, recent.pk)
    await receive_frames(watcher, 2)
    second = socket(f"/ws/jams/{jam.slug}/live/?after=0")
    assert (await second.connect())[0]
    frames = await receive_until_caught_up(second)
    assert not {early.pk, recent.pk} & set(post_ids(frames))
    assert all("early words" not in f and "recent words" not in f for f in frames)
    for ws in (watcher, second):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_cursor_ahead_of_the_hub_reads_the_database(hub: Any) -> None:
    """A socket that saw newer revs elsewhere (another process, a restored database) is
    not sent the group's history; it gets the database's view, as before the hub."""
    jam, panelist = await make_jam()
    post = await compose(jam=jam, user=panelist, body="one")
    ws = socket(f"/ws/jams/{jam.slug}/live/?after={post.rev + 50}")
    assert (await ws.connect())[0]
    frames = await receive_until_caught_up(ws)
    assert post.pk in post_ids(frames)  # a cursor beyond the database starts over
    await ws.disconnect()


# The user, read only when needed ------------------------------------------------------------


class Scopes:
    """An ASGI app between the auth middleware and the router that keeps each scope."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.seen = inner, []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        self.seen.append(scope)
        return await self.inner(scope, receive, send)


def _cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.mark.django_db(transaction=True)
async def test_viewers_of_an_open_jam_connect_without_reading_the_user(hub: Any) -> None:
    jam, panelist = await make_jam()
    draft = await database_sync_to_async(JamFactory)(host=panelist)
    cookie = (b"cookie", await database_sync_to_async(_cookie)(panelist))
    scopes = Scopes(URLRouter(websocket_urlpatterns))
    app = SocketAuthMiddlewareStack(scopes)

    ws = WebsocketCommunicator(app, f"/ws/jams/{jam.slug}/live/", headers=[cookie])
    assert (await ws.connect())[0]
    await receive_until_caught_up(ws)
    assert scopes.seen[-1]["user"]._wrapped is empty
    await ws.disconnect()

    # A draft is for its people: the user is read, and the host is let in.
    ws = WebsocketCommunicator(app, f"/ws/jams/{draft.slug}/live/", headers=[cookie])
    assert (await ws.connect())[0]
    assert scopes.seen[-1]["user"].pk == panelist.pk
    await ws.disconnect()
    ws = WebsocketCommunicator(app, f"/ws/jams/{draft.slug}/live/")
    connected, code = await ws.connect()
    assert not connected and code == 4403
    assert not scopes.seen[-1]["user"].is_authenticated

    # The console always goes by the user: a panelist is not a moderator.
    ws = WebsocketCommunicator(app, f"/ws/jams/{jam.slug}/console/", headers=[cookie])
    connected, code = await ws.connect()
    assert not connected and code == 4403
    assert scopes.seen[-1]["user"].pk == panelist.pk


def test_catch_up_goes_out_in_few_messages_in_order() -> None:
    from jamhost.live.consumers import batches

    texts = [f"<p>{i:04d}</p>" for i in range(100)]  # 11 characters each
    messages = batches(texts, limit=110)
    assert len(messages) == 10 and "".join(messages) == "".join(texts)
    assert batches(["x" * 500, "y"], limit=110) == ["x" * 500, "y"]
    assert batches([], limit=110) == []
