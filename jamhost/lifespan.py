"""Server start and stop. In the embedded default the schedule and archive sweeps run
here, on the server's event loop, so their frames reach this process's sockets directly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings

log = logging.getLogger(__name__)


async def sweep_forever(interval: float) -> None:
    """The schedule, polls, drafts and reminders sweeps, and the archive and import sweeps
    every ARCHIVE_SWEEP_INTERVAL (as beat runs them in production)."""
    from jamhost.jams.reminders import reminders_sweep
    from jamhost.jams.sweep import jams_sweep
    from jamhost.polls.sweep import polls_sweep
    from jamhost.posts.drafts import drafts_send_released
    from jamhost.transcripts.tasks import archive_sweep, import_sweep_task

    loop = asyncio.get_running_loop()
    archived_at = loop.time()
    sweeps = (
        ("schedule", jams_sweep),
        ("polls", polls_sweep),
        ("drafts", drafts_send_released),
        ("reminders", reminders_sweep),
    )
    while True:
        for name, sweep in sweeps:
            try:
                await sync_to_async(sweep, thread_sensitive=True)()
            except Exception:
                log.exception("%s sweep failed", name)
        if loop.time() - archived_at >= settings.ARCHIVE_SWEEP_INTERVAL:
            archived_at = loop.time()
            try:
                await sync_to_async(archive_sweep, thread_sensitive=True)()
                await sync_to_async(import_sweep_task, thread_sensitive=True)()
            except Exception:
                log.exception("archive or import sweep failed")
        await asyncio.sleep(interval)


def _networks_sweep_once() -> None:
    from django.db import connections

    from jamhost.networks.sweep import networks_sweep

    try:
        networks_sweep()
    finally:
        # Pool threads come and go; leave no connection behind in any of them.
        connections.close_all()


async def networks_forever(interval: float) -> None:
    """Publishing and ingest polls for X, Bluesky and Mastodon. Off the thread the views share
    (thread_sensitive=False), so a slow X never holds up pages or question releases."""
    from jamhost.networks import sweep

    sweep.embedded_loop_running = True
    try:
        while True:
            try:
                await sync_to_async(_networks_sweep_once, thread_sensitive=False)()
            except Exception:
                log.exception("networks sweep failed")
            await asyncio.sleep(interval)
    finally:
        sweep.embedded_loop_running = False


async def demo_replay_forever() -> None:
    """The first-run demo (`make run`): the recorded jam plays into the demo jam, again
    and again while it is live, so a new user sees posts arrive."""
    from jamhost.posts.management.commands.demo import DEMO_SLUG
    from jamhost.posts.rehearsal import DEMO_RECORDING, recording_load, recording_replay_async

    recording = await sync_to_async(recording_load)(DEMO_RECORDING)
    await recording_replay_async(slug=DEMO_SLUG, recording=recording, loop=True)


def listeners_start() -> tuple[threading.Thread, threading.Event] | None:
    """Live delivery from Jetstream and Mastodon's streams (networks.listeners) on a thread
    of the embedded server, when either is configured (production runs `networks_listen`)."""
    from jamhost.networks.listeners import listeners_thread, listening_configured

    if not listening_configured():
        return None
    stop = threading.Event()
    log.info("listening to Jetstream and Mastodon streams in this process")
    return listeners_thread(stop=stop), stop


async def lifespan(
    receive: Callable[[], Awaitable[dict[str, Any]]],
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    sweeper: asyncio.Task[None] | None = None
    networks: asyncio.Task[None] | None = None
    demo: asyncio.Task[None] | None = None
    listeners: tuple[threading.Thread, threading.Event] | None = None
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if settings.EMBEDDED and settings.SWEEP_INTERVAL > 0:
                sweeper = asyncio.get_running_loop().create_task(
                    sweep_forever(settings.SWEEP_INTERVAL)
                )
                log.info("embedded schedule sweep every %ss", settings.SWEEP_INTERVAL)
                if settings.X_CLIENT_ID or settings.BLUESKY_ENABLED or settings.MASTODON_ENABLED:
                    networks = asyncio.get_running_loop().create_task(
                        networks_forever(settings.SWEEP_INTERVAL)
                    )
            if settings.EMBEDDED:
                listeners = listeners_start()
            if settings.DEMO_REPLAY:
                demo = asyncio.get_running_loop().create_task(demo_replay_forever())
                log.info("replaying the recorded demo jam into the demo jam")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            for task in (sweeper, networks, demo):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
            if listeners is not None:
                thread, stop = listeners
                stop.set()
                await asyncio.to_thread(thread.join, 10.0)
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                # This process's "live" gauges (open sockets) leave the sums with it.
                from prometheus_client import multiprocess

                multiprocess.mark_process_dead(os.getpid())
            await send({"type": "lifespan.shutdown.complete"})
            return
