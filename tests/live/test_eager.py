"""eager_start: runs a coroutine at once, and hands it to a task only when it must wait
(the live path's per-socket writes; see jamhost/live/eager.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from jamhost.live.eager import eager_start


def on_a_fresh_loop(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Each scenario on its own loop in its own thread: these tests are about the loop's
    mechanics, and must not share one with (or trip over) a browser test's loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result(timeout=10)


def test_a_coroutine_that_never_waits_runs_to_the_end_at_once() -> None:
    on_a_fresh_loop(_a_coroutine_that_never_waits_runs_to_the_end_at_once)


async def _a_coroutine_that_never_waits_runs_to_the_end_at_once() -> None:
    done: list[str] = []

    async def write() -> None:
        done.append("written")

    assert eager_start(write()) is None
    assert done == ["written"]  # before any turn of the loop


def test_a_coroutine_that_waits_finishes_in_a_task_with_the_result() -> None:
    on_a_fresh_loop(_a_coroutine_that_waits_finishes_in_a_task_with_the_result)


async def _a_coroutine_that_waits_finishes_in_a_task_with_the_result() -> None:
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    seen: list[str] = []

    async def write() -> None:
        seen.append("before")
        seen.append(await future)
        await asyncio.sleep(0)
        seen.append("after")

    task = eager_start(write())
    assert task is not None and seen == ["before"]
    await asyncio.sleep(0)  # the task is waiting on the future now
    future.set_result("resumed")
    await asyncio.wait_for(task, 1)
    assert seen == ["before", "resumed", "after"]


def test_an_error_while_waiting_reaches_the_coroutine() -> None:
    on_a_fresh_loop(_an_error_while_waiting_reaches_the_coroutine)


async def _an_error_while_waiting_reaches_the_coroutine() -> None:
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    caught: list[BaseException] = []

    async def write() -> None:
        try:
            await future
        except OSError as exc:
            caught.append(exc)

    task = eager_start(write())
    assert task is not None
    future.set_exception(OSError("gone"))
    await asyncio.wait_for(task, 1)
    assert [str(e) for e in caught] == ["gone"]


def test_cancelling_the_task_cancels_the_coroutine() -> None:
    on_a_fresh_loop(_cancelling_the_task_cancels_the_coroutine)


async def _cancelling_the_task_cancels_the_coroutine() -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    cleaned: list[bool] = []

    async def write() -> None:
        try:
            await future
        finally:
            cleaned.append(True)

    task = eager_start(write())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True] and future.cancelled()
