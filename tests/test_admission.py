"""Admission control (jamhost.admission) in front of an ASGI application: a fixed set of
request threads, a bounded queue, and an immediate 503 with Retry-After beyond it."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

from asgiref.sync import sync_to_async
from prometheus_client import REGISTRY

from jamhost.admission import Admission


class SlowApp:
    """Stands in for Django: answers once `release` is set, after noting which thread
    its synchronous part ran on (Django runs views the same way, thread-sensitive)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0
        self.threads: set[int] = set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.started += 1
        if scope["type"] == "http" and scope["path"].endswith("/wait"):
            await self.release.wait()
        self.threads.add(await sync_to_async(threading.get_ident, thread_sensitive=True)())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def request(app: Any, path: str, kind: str = "http") -> dict[str, Any]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": kind, "path": path}, receive, send)
    start = next((m for m in sent if m["type"] == "http.response.start"), {})
    return {"status": start.get("status"), "headers": dict(start.get("headers", []))}


def refused_busy() -> float:
    return REGISTRY.get_sample_value("jamhost_refused_total", {"reason": "busy"}) or 0.0


def admission(inner: SlowApp, **overrides: Any) -> Admission:
    options = dict(
        threads=2,
        backlog=1,
        wait=0.5,
        retry_after=2,
        exempt=("/healthz",),
        slow=r"^/jams/[^/]+/transcript[/.]",
        slow_threads=1,
    )
    options.update(overrides)
    return Admission(inner, **options)


async def test_beyond_threads_and_backlog_a_request_is_refused_at_once() -> None:
    inner = SlowApp()
    app = admission(inner, wait=30)
    running = [asyncio.create_task(request(app, "/wait")) for _ in range(2)]
    queued = asyncio.create_task(request(app, "/wait"))
    while inner.started < 2:
        await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()
    began = loop.time()
    counted = refused_busy()
    refused = await request(app, "/wait")
    assert refused["status"] == 503
    assert refused_busy() == counted + 1  # in /metrics
    assert refused["headers"][b"retry-after"] == b"2"
    assert loop.time() - began < 0.5  # at once, not after the queue's wait
    assert inner.started == 2  # the refused request never reached the application
    inner.release.set()
    answers = await asyncio.gather(*running, queued)
    assert [a["status"] for a in answers] == [200, 200, 200]


async def test_a_request_that_waits_too_long_for_a_thread_is_refused() -> None:
    inner = SlowApp()
    app = admission(inner, threads=1, backlog=4, wait=0.2)
    holder = asyncio.create_task(request(app, "/wait"))
    while inner.started < 1:
        await asyncio.sleep(0.01)
    waited = await request(app, "/fast")
    assert waited["status"] == 503
    assert inner.started == 1
    inner.release.set()
    assert (await holder)["status"] == 200
    assert (await request(app, "/fast"))["status"] == 200  # the thread is free again


async def test_requests_run_on_the_fixed_threads_only() -> None:
    inner = SlowApp()
    app = admission(inner, threads=3, backlog=100, wait=5)
    inner.release.set()
    answers = await asyncio.gather(*(request(app, f"/{n}/wait") for n in range(60)))
    assert {a["status"] for a in answers} == {200}
    assert len(inner.threads) <= 3


async def test_health_checks_and_websockets_are_not_queued_behind_posts() -> None:
    inner = SlowApp()
    app = admission(inner, threads=1, backlog=0)
    holder = asyncio.create_task(request(app, "/wait"))
    while inner.started < 1:
        await asyncio.sleep(0.01)
    assert (await request(app, "/fast"))["status"] == 503  # full
    assert (await request(app, "/healthz"))["status"] == 200
    socket = await request(app, "/ws/jams/x/live/", kind="websocket")
    assert socket["status"] == 200  # passed through to the application
    inner.release.set()
    await holder


async def test_a_cancelled_waiter_gives_its_turn_back() -> None:
    inner = SlowApp()
    app = admission(inner, threads=1, backlog=2, wait=5)
    holder = asyncio.create_task(request(app, "/wait"))
    while inner.started < 1:
        await asyncio.sleep(0.01)
    gone = asyncio.create_task(request(app, "/fast"))
    await asyncio.sleep(0.05)
    gone.cancel()
    inner.release.set()
    await holder
    assert (await request(app, "/fast"))["status"] == 200
    assert app.lanes.free and not app.lanes.waiting


async def test_slow_downloads_have_lanes_of_their_own() -> None:
    """Readers of transcripts (streamed for as long as they take) neither take the
    lanes of the people posting nor wait behind them."""
    inner = SlowApp()
    app = admission(inner, threads=1, backlog=0, wait=5)
    reader = asyncio.create_task(request(app, "/jams/x/transcript/wait"))
    posting = asyncio.create_task(request(app, "/jams/x/live/compose/wait"))
    while inner.started < 2:  # both run at once: the reader took no posting lane
        await asyncio.sleep(0.01)
    assert (await request(app, "/jams/x/live/compose/"))["status"] == 503  # that lane is busy
    queued = asyncio.create_task(request(app, "/jams/x/transcript.csv"))  # waits its turn
    await asyncio.sleep(0.05)
    assert (await request(app, "/jams/x/transcript.json"))["status"] == 503  # queue full
    inner.release.set()
    assert [(await t)["status"] for t in (reader, posting, queued)] == [200, 200, 200]


def test_the_slow_lanes_take_every_reader_path_and_no_posting_path() -> None:
    """ADMISSION_SLOW_PATHS against the real URLs: transcript pages, parts, search,
    exports and link preview images go to the readers' lanes; the room, the compose
    box and everything else of a live jam do not."""
    from django.conf import settings
    from django.urls import reverse

    slow = re.compile(settings.ADMISSION_SLOW_PATHS)
    readers = [
        reverse("transcripts:replay", args=["j"]),
        reverse("transcripts:search", args=["j"]),
        reverse("transcripts:post", args=["j", 12]),
        reverse("transcripts:section", args=["j", "q3"]),
        reverse("transcripts:part", args=["j", 2, "q3", 1, 50]),
        reverse("transcripts:play", args=["j", 2, 1]),
        reverse("transcripts:export", args=["j", "csv"]),
        reverse("transcripts:jam_card", args=["j"]),
        reverse("transcripts:replay_card", args=["j"]),
        reverse("transcripts:post_card", args=["j", 12]),
        reverse("transcripts:section_card", args=["j", "q3"]),
    ]
    assert [path for path in readers if not slow.match(path)] == []
    posting = [
        reverse("live:room", args=["j"]),
        reverse("live:compose", args=["j"]),
        reverse("live:preview", args=["j"]),
        "/jams/j/",
        "/jams/transcript-talk/live/compose/",  # a slug that merely says "transcript"
    ]
    assert [path for path in posting if slow.match(path)] == []
