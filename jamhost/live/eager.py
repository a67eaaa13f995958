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
                # The future marked itself as awaited when it was yielded; a task clears
                # the mark when it takes the future over, and awaiting it again needs that.
                waiting._asyncio_future_blocking = False
                await waiting
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
