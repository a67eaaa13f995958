"""Admission control for HTTP requests: a fixed set of worker threads per process, a
bounded queue in front of them, and an immediate 503 beyond it.

Django runs each request's synchronous part (middleware, view, template) in a thread.
Left to itself, its ASGI handler starts a new thread for every request: under a burst
that made hundreds of threads, each opening its own database and Redis connections, and
requests queued for as long as the burst lasted (answers after 30 s, posts stored while
their authors were told they had failed). Here every request runs on one of
WEB_THREADS long-lived threads (a "lane"), so the threads, and the connections they
hold, are bounded and reused; at most WEB_BACKLOG requests wait for a lane, each for at
most WEB_BACKLOG_WAIT seconds. A request beyond that is answered at once with 503 and
`Retry-After`, before any of jamhost's code runs: nothing it asked for was done, so
sending it again is safe. A request that got a lane runs to the end and gets its real
answer (a post that is stored is reported as stored).

Websockets are not counted (their consumers do their database work on Channels' own
thread), health checks (ADMISSION_EXEMPT_PATHS) have a lane of their own, and transcript
pages and exports (ADMISSION_SLOW_PATHS, which stream for as long as their reader takes)
and link preview images have WEB_SLOW_THREADS lanes of their own, so none of them is
starved by a queue of posts and none of them can take every lane from the people posting.
Refusals are counted in jamhost_refused{reason="busy"} (jamhost.metrics).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext

from jamhost import metrics

log = logging.getLogger(__name__)

Scope = Any
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

BUSY_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>Busy</title>"
    b"<p>jamhost is busy right now and did not take this request. "
    b"Nothing was changed: try again in a few seconds.</p>"
)


LOG_EVERY = 10.0


def _lane(name: str) -> ThreadPoolExecutor:
    # One thread per lane: Django's thread-sensitive code (and the database connection
    # it keeps per thread) must run on one thread for the whole request.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)


class Lanes:
    """A fixed set of lanes and the bounded queue in front of them."""

    def __init__(self, name: str, *, threads: int, backlog: int, wait: float) -> None:
        self.free: deque[ThreadPoolExecutor] = deque(
            _lane(f"{name}-{n}") for n in range(max(1, threads))
        )
        self.backlog = max(0, backlog)
        self.wait = wait
        self.waiting: deque[asyncio.Future[ThreadPoolExecutor]] = deque()

    async def acquire(self) -> ThreadPoolExecutor | None:
        """A lane, or None when the queue is full or the wait ran out."""
        if self.free and not self.waiting:
            return self.free.popleft()
        if len(self.waiting) >= self.backlog:
            return None
        turn: asyncio.Future[ThreadPoolExecutor] = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            return await asyncio.wait_for(asyncio.shield(turn), self.wait)
        except TimeoutError:
            if turn.done():  # handed a lane just as the wait ran out: take it
                return turn.result()
            turn.cancel()
            return None
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release(turn.result())
            turn.cancel()
            raise
        finally:
            if turn in self.waiting:
                self.waiting.remove(turn)

    def release(self, lane: ThreadPoolExecutor) -> None:
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(lane)
                return
        self.free.append(lane)


class Admission:
    """ASGI middleware around Django's HTTP application (see the module docstring).

    Requests for `slow` paths (transcript pages and exports, which stream for as long as
    a slow reader takes) run on lanes of their own, `slow_threads` of them, so readers
    of past jams cannot take every lane from the people posting."""

    def __init__(
        self,
        app: App,
        *,
        threads: int,
        backlog: int,
        wait: float,
        retry_after: int,
        exempt: tuple[str, ...] = (),
        slow: str = "",
        slow_threads: int = 2,
    ) -> None:
        self.app = app
        self.retry_after = retry_after
        self.exempt = exempt
        self.lanes = Lanes("jamhost-web", threads=threads, backlog=backlog, wait=wait)
        self.slow = re.compile(slow) if slow else None
        self.slow_lanes = Lanes(
            "jamhost-slow", threads=slow_threads, backlog=max(1, backlog // 4), wait=wait
        )
        self.reserved = _lane("jamhost-health")
        self.refused = 0
        self.logged_refused = 0
        self.logged_at = float("-inf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if self.exempt and path.startswith(self.exempt):
            async with ThreadSensitiveContext(executor=self.reserved):
                await self.app(scope, receive, send)
            return
        lanes = self.slow_lanes if self.slow and self.slow.match(path) else self.lanes
        lane = await lanes.acquire()
        if lane is None:
            self._note_refusal()
            await self._refuse(send)
            return
        try:
            async with ThreadSensitiveContext(executor=lane):
                await self.app(scope, receive, send)
        finally:
            lanes.release(lane)

    def _note_refusal(self) -> None:
        """Count refusals; log them at most once per LOG_EVERY seconds (a line per 503
        would add to the load that causes them)."""
        self.refused += 1
        metrics.REFUSED.labels(reason="busy").inc()
        now = asyncio.get_running_loop().time()
        if now - self.logged_at >= LOG_EVERY:
            log.warning(
                "busy: %s requests answered 503 (no thread free in time) since the last note",
                self.refused - self.logged_refused,
            )
            self.logged_at, self.logged_refused = now, self.refused

    async def _refuse(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(BUSY_PAGE)).encode()),
                    (b"retry-after", str(self.retry_after).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": BUSY_PAGE})
