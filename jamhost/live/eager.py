"""Start a coroutine now rather than on the next turn of the event loop: Python 3.12's
eager tasks, for the one place that needs them on 3.11.

Writing a live frame to a socket almost never waits: the server's `send` returns at once
unless the client has stopped reading and the socket's buffer is full. A new task per
socket per frame is then pure overhead — at 1,000 viewers it was a quarter of the
server's CPU (measured by bench/, see BENCHMARKS.md). `eager_start` runs the coroutine
synchronously until it first has to wait, and only then hands the rest to a task, so
a slow socket still waits on its own without holding up the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def eager_start(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run `coro` up to its first suspension. Returns None when it finished there, else
    the task that runs the rest (cancelling the task cancels the coroutine)."""
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None
    return asyncio.get_running_loop().create_task(_resume(coro, waiting))


async def _resume(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive a started coroutine as a task would: wait for what it yielded, resume it."""
    while True:
        try:
            if waiting is None:  # a bare yield, as in asyncio.sleep(0)
                await asyncio.sleep(0)
            else:
                # What a task does with a yielded future: clear its "awaited" mark, wake up
                # when it is done, then resume the coroutine (which reads the result). Not
                # awaiting it a second time: a server's own awaitables need not allow that
                # (granian's do not).
                waiting._asyncio_future_blocking = False
                woken = asyncio.get_running_loop().create_future()
                waiting.add_done_callback(lambda _, w=woken: w.done() or w.set_result(None))
                try:
                    await woken
                except asyncio.CancelledError:
                    waiting.cancel()
                    raise
        except BaseException as exc:  # cancelled while waiting: cancel the coroutine too
            try:
                waiting = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            # A future's result (or error) reaches the coroutine when it resumes:
            # Future.__await__ returns future.result() after the yield.
            waiting = coro.send(None)
        except StopIteration:
            return
