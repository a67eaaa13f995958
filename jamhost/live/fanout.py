"""Fan-out of live frames inside one server process.

A Hub (one per event loop, so one per server process) keeps, for each live
(jam, audience), the set of local sockets and ONE source subscription: a Redis
subscription in production, this process's own publishers in the embedded default. Each
frame arrives once per process, already rendered, and is handed to every local socket's
outbox; the consumer writes it in order and closes the socket with 1013 when its backlog
passes a bound. No rendering, query or JSON work happens per socket.

Frames are stamped with the jam's rev. Changes to a jam commit in rev order, but frames
can still arrive out of order (two publishers racing after commit) or not at all (Redis
pub/sub is at-most-once; Redis may be down). The hub delivers revs in order; on a gap it
waits LIVE_GAP_WAIT for the missing frame, then reads the current state of everything
after its last rev from the database (once per process, not per socket). A periodic check
compares each group's last rev with the database, so a frame lost with nothing after it
is still delivered within LIVE_RESYNC_INTERVAL.

The hub also serves what sockets need at connect, shared by every socket of the process
(in a connect storm, thousands at once): the jam, read once for all the sockets asking for
it at the same moment, and catch-up. Each group keeps the frames it delivered recently
(`history`, from rev `history_start` on); a socket that joins reads the group's last
delivered rev L and is sent the database's state of what changed in
(after, history_start] (cached: every socket with the same cursor shares it) followed by
the frames in history after its cursor. That is exact: every rev above history_start that
the hub delivered is in history, every rev above L reaches the socket live because it
joined first, and a change the database slice misses because it happened later has a
newer rev, so it is in history or on its way.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any, TypeVar

from cachetools import LRUCache
from channels.db import database_sync_to_async
from django.conf import settings

from jamhost import metrics
from jamhost.jams.models import Jam
from jamhost.live.bus import channel_name
from jamhost.live.catchup import frames_after, parts_after, parts_between
from jamhost.live.frames import Frame, Part, frames_of
from jamhost.live.history import Group, LiveSocket
from jamhost.live.redis_source import RedisSource

log = logging.getLogger(__name__)

T = TypeVar("T")

# Database slices (the part of a catch-up older than a group's history) kept per process.
SLICES = 64


@database_sync_to_async
def _jam_revs(jam_ids: list[int]) -> dict[int, int]:
    return dict(Jam.objects.filter(pk__in=jam_ids).values_list("pk", "rev"))


@database_sync_to_async
def _frames_after(jam_id: int, audience: str, after: int) -> tuple[int, list[tuple[int, str]]]:
    return frames_after(jam_id=jam_id, audience=audience, after=after)


@database_sync_to_async
def _parts_after(jam_id: int, audience: str, after: int) -> tuple[int, list[Part]]:
    return parts_after(jam_id=jam_id, audience=audience, after=after)


@database_sync_to_async
def _parts_between(jam_id: int, audience: str, after: int, upto: int) -> list[Part]:
    return parts_between(jam_id=jam_id, audience=audience, after=after, upto=upto)


@database_sync_to_async
def _jam_by_slug(slug: str) -> Jam | None:
    return Jam.objects.filter(slug=slug).first()


class Shared:
    """Concurrent awaits of the same key share one call: the first caller starts it, the
    others wait for its result (or its exception). Nothing is kept after it ends."""

    def __init__(self) -> None:
        self.running: dict[Hashable, asyncio.Future[Any]] = {}

    async def __call__(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        future: asyncio.Future[T] | None = self.running.get(key)
        if future is None:
            future = asyncio.ensure_future(call())
            self.running[key] = future
            future.add_done_callback(lambda _: self.running.pop(key, None))
        # A waiter that goes away (its socket closed) leaves the call running for the rest.
        return await asyncio.shield(future)


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.groups: dict[tuple[int, str], Group] = {}
        self.source: RedisSource | None = (
            RedisSource(self, settings.REDIS_URL)
            if settings.REDIS_URL and settings.LIVE_FANOUT == "hub"
            else None
        )
        self._check_task: asyncio.Task[None] | None = None
        self._shared = Shared()
        self._slices: LRUCache[Hashable, list[Part]] = LRUCache(maxsize=SLICES)

    # Connecting -------------------------------------------------------------------------

    async def jam(self, slug: str) -> Jam | None:
        """The jam with this slug, read once for every socket asking at the same time."""
        return await self._shared(("jam", slug), lambda: _jam_by_slug(slug))

    async def catch_up(
        self, jam: Jam, audience: str, after: int
    ) -> tuple[int, list[tuple[int, str]]]:
        """(R, frames) for a socket that joined the group: the state of everything that
        changed in (after, R], in rev order, where R is the group's last delivered rev."""
        group = self.groups[(jam.pk, audience)]
        assert group.last_rev is not None
        upto, start = group.last_rev, group.history_start
        if after > upto:  # ahead of this process (or a cursor from another database)
            return await _frames_after(jam.pk, audience, after)
        recent: list[Part] = []
        for part in reversed(group.history):
            if part[0] <= after:
                break
            recent.append(part)
        recent.reverse()
        if after >= start:
            return upto, group.current(recent)
        older = await self._slice(jam, audience, after, start)
        # Read `newest` now, not before the wait: a post changed meanwhile is left out of
        # the older part and its new state, already delivered live, is not in `recent`.
        return upto, group.current(older) + group.current(recent)

    async def _slice(self, jam: Jam, audience: str, after: int, upto: int) -> list[Part]:
        key = (jam.pk, jam.created_at, audience, after, upto)
        kept = self._slices.get(key)
        if kept is not None:
            return kept
        parts: list[Part] = await self._shared(
            key, lambda: _parts_between(jam.pk, audience, after, upto)
        )
        self._slices[key] = parts
        return parts

    # Membership -------------------------------------------------------------------------

    async def join(self, jam_id: int, audience: str, socket: LiveSocket) -> None:
        """Add the socket to the group; returns once the group receives live frames."""
        key = (jam_id, audience)
        group = self.groups.get(key)
        if group is None:
            group = Group(jam_id, audience)
            self.groups[key] = group
            group.sockets.add(socket)
            try:
                if self.source is not None:
                    await self.source.subscribe(channel_name(jam_id, audience))
                revs = await _jam_revs([jam_id])
            except BaseException:
                group.ready.set()
                raise
            group.last_rev = group.history_start = revs.get(jam_id, 0)
            self._drain(group)
            group.ready.set()
            self._ensure_check()
        else:
            group.sockets.add(socket)
            await group.ready.wait()

    def leave(self, jam_id: int, audience: str, socket: LiveSocket) -> None:
        group = self.groups.get((jam_id, audience))
        if group is None:
            return
        group.sockets.discard(socket)
        if not group.sockets:
            del self.groups[group.key]
            if group.gap_task is not None:
                group.gap_task.cancel()
            if self.source is not None:
                self.source.unsubscribe(channel_name(jam_id, audience))

    def count(self, jam_id: int, audience: str) -> int:
        group = self.groups.get((jam_id, audience))
        return len(group.sockets) if group else 0

    def task(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """A task of the hub's own, in an empty context: one created from a caller
        inside sync_to_async would inherit its "single thread in use" flag, and every
        database call in it would fail with "would deadlock"."""
        return self.loop.create_task(coroutine, context=contextvars.Context())

    # Frames -----------------------------------------------------------------------------

    def feed(
        self, jam_id: int, audience: str, rev: int, frame: Frame, sent_at: float | None = None
    ) -> None:
        """A frame from the source (`sent_at`: when it was published). Runs on the hub's
        loop."""
        group = self.groups.get((jam_id, audience))
        if group is None:
            return
        if sent_at is not None:
            metrics.DELIVERY_LAG.observe(max(0.0, time.time() - sent_at))
        if group.last_rev is not None and rev <= group.last_rev:
            return
        group.pending[rev] = frame
        if group.last_rev is not None:
            self._drain(group)

    def broadcast(self, jam_id: int, audience: str, text: str) -> None:
        """An unstamped frame (viewer counts and the like) to every local socket."""
        group = self.groups.get((jam_id, audience))
        if group is not None:
            for socket in list(group.sockets):
                socket.deliver(None, text)

    def _drain(self, group: Group) -> None:
        assert group.last_rev is not None
        for rev in [r for r in group.pending if r <= group.last_rev]:
            del group.pending[rev]
        while group.last_rev + 1 in group.pending:
            group.last_rev += 1
            group.delivered(group.last_rev, group.pending.pop(group.last_rev))
        if group.pending and group.gap_task is None:
            metrics.HUB_GAPS.inc()
            group.gap_task = self.task(self._fill_gap(group))

    async def _fill_gap(self, group: Group) -> None:
        try:
            await asyncio.sleep(settings.LIVE_GAP_WAIT)
            if group.pending:
                await self._resync(group, reason="gap")
        finally:
            group.gap_task = None
        if group.pending and self.groups.get(group.key) is group:
            self._drain(group)

    async def _resync(self, group: Group, *, reason: str) -> None:
        """Send the current state of everything after the group's last rev, from the DB."""
        assert group.last_rev is not None
        metrics.HUB_RESYNCS.labels(reason=reason).inc()
        try:
            upto, parts = await _parts_after(group.jam_id, group.audience, group.last_rev)
        except Exception:
            log.warning("live resync of jam %s failed", group.jam_id, exc_info=True)
            return
        for rev, frame in frames_of(parts):
            if rev > group.last_rev:
                group.delivered(rev, frame)
                group.last_rev = rev
        group.last_rev = max(group.last_rev, upto)
        log.info("live resync of jam %s %s up to rev %s", group.jam_id, group.audience, upto)

    def resync_all(self) -> None:
        """After the source lost frames (a Redis reconnect): catch every group up."""
        for group in list(self.groups.values()):
            if group.last_rev is not None and group.gap_task is None:
                group.gap_task = self.task(self._resync_now(group, "source"))

    async def _resync_now(self, group: Group, reason: str) -> None:
        try:
            await self._resync(group, reason=reason)
        finally:
            group.gap_task = None
        self._drain(group)

    # Periodic check -----------------------------------------------------------------------

    def _ensure_check(self) -> None:
        if self._check_task is None or self._check_task.done():
            self._check_task = self.task(self._check_loop())

    async def _check_loop(self) -> None:
        from jamhost.live.presence import presence_tick

        while self.groups:
            await asyncio.sleep(settings.LIVE_RESYNC_INTERVAL)
            if not self.groups:
                break
            try:
                revs = await _jam_revs(sorted({g.jam_id for g in self.groups.values()}))
                await presence_tick(self)
            except Exception:
                log.warning("live check failed", exc_info=True)
                continue
            for group in list(self.groups.values()):
                behind = group.last_rev is not None and revs.get(group.jam_id, 0) > group.last_rev
                if behind and group.gap_task is None:
                    group.gap_task = self.task(self._resync_now(group, "check"))

    async def close(self) -> None:
        if self._check_task is not None:
            self._check_task.cancel()
        for group in self.groups.values():
            if group.gap_task is not None:
                group.gap_task.cancel()
        self.groups.clear()
        if self.source is not None:
            await self.source.close()


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """The hub of the running event loop (one per server process)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(loop)
    return hub


def feed_local_hubs(
    *, jam_id: int, audience: str, rev: int, frame: Frame, sent_at: float | None = None
) -> None:
    """Embedded default: hand a frame to this process's hubs, from any thread.

    The call runs in an empty context, not the publishing thread's: that thread is inside
    sync_to_async, whose "single thread in use" flag a task created from its context
    (the hub's gap resync) would inherit, and every database call in that task would
    then fail with "would deadlock" (one warning per frame, and no frame delivered)."""
    for loop, hub in list(_hubs.items()):
        if (jam_id, audience) in hub.groups and not loop.is_closed():
            loop.call_soon_threadsafe(
                hub.feed, jam_id, audience, rev, frame, sent_at, context=contextvars.Context()
            )


PROCESS_ID = f"{os.uname().nodename}:{os.getpid()}"
