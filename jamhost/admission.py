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
thread), and health checks (ADMISSION_EXEMPT_PATHS) have a lane of their own, so neither
is starved by a queue of posts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext

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


def _lane(name: str) -> ThreadPoolExecutor:
    # One thread per lane: Django's thread-sensitive code (and the database connection
    # it keeps per thread) must run on one thread for the whole request.
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)


class Admission:
    """ASGI middleware around Django's HTTP application (see the module docstring)."""

    def __init__(
        self,
        app: App,
        *,
        threads: int,
        backlog: int,
        wait: float,
        retry_after: int,
        exempt: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.threads = max(1, threads)
        self.backlog = max(0, backlog)
        self.wait = wait
        self.retry_after = retry_after
        self.exempt = exempt
        self.free: deque[ThreadPoolExecutor] = deque(
            _lane(f"jamhost-web-{n}") for n in range(self.threads)
        )
        self.reserved = _lane("jamhost-health")
        self.waiting: deque[asyncio.Future[ThreadPoolExecutor]] = deque()
        self.running = 0
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.exempt and str(scope.get("path", "")).startswith(self.exempt):
            async with ThreadSensitiveContext(executor=self.reserved):
                await self.app(scope, receive, send)
            return
        lane = await self._acquire()
        if lane is None:
            self.refused += 1
            await self._refuse(send)
            return
        self.running += 1
        try:
            async with ThreadSensitiveContext(executor=lane):
                await self.app(scope, receive, send)
        finally:
            self.running -= 1
            self._release(lane)

    async def _acquire(self) -> ThreadPoolExecutor | None:
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
                self._release(turn.result())
            turn.cancel()
            raise
        finally:
            if turn in self.waiting:
                self.waiting.remove(turn)

    def _release(self, lane: ThreadPoolExecutor) -> None:
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(lane)
                return
        self.free.append(lane)

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
