"""The hub's source of frames in production: one Redis subscription for the whole
process, resubscribed after errors (a lost subscription makes the hub resync)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from django.conf import settings

from jamhost.live.frames import frame_decode

if TYPE_CHECKING:
    from jamhost.live.fanout import Hub

log = logging.getLogger(__name__)


class RedisSource:
    """One Redis subscription for the whole process; resubscribes after errors."""

    def __init__(self, hub: Hub, url: str) -> None:
        self.hub = hub
        self.url = url
        self.channels: set[str] = set()
        self.confirmed: dict[str, asyncio.Event] = {}
        self.client: aioredis.Redis | None = None
        self.pubsub: aioredis.client.PubSub | None = None
        self.reader: asyncio.Task[None] | None = None
        self.prefix_len = len(settings.CHANNEL_PREFIX) + len(":live:")

    async def subscribe(self, channel: str) -> None:
        self.channels.add(channel)
        event = self.confirmed.setdefault(channel, asyncio.Event())
        if self.reader is None or self.reader.done():
            self.reader = self.hub.task(self._run())
        elif self.pubsub is not None:
            with contextlib.suppress(Exception):
                await self.pubsub.subscribe(channel)
        # Frames published before Redis confirms could be missed: wait for it, but not
        # for ever (with Redis down, the socket lives on catch-up and resyncs).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=2.0)

    def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)
        self.confirmed.pop(channel, None)
        if self.pubsub is not None:
            pubsub = self.pubsub
            self.hub.loop.create_task(self._quietly(pubsub.unsubscribe(channel)))

    @staticmethod
    async def _quietly(awaitable: object) -> None:
        with contextlib.suppress(Exception):
            await awaitable  # type: ignore[misc]

    async def _connect(self) -> None:
        self.client = aioredis.Redis.from_url(
            self.url, socket_connect_timeout=2, health_check_interval=10
        )
        self.pubsub = self.client.pubsub()
        await self.pubsub.subscribe(*self.channels)

    async def _teardown(self) -> None:
        pubsub, client = self.pubsub, self.client
        self.pubsub = self.client = None
        for event in self.confirmed.values():
            event.clear()
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _run(self) -> None:
        backoff = 0.1
        lost = False
        try:
            while self.channels:
                try:
                    if self.pubsub is None:
                        await self._connect()
                        if lost:
                            log.info("live: Redis subscription restored; resyncing")
                            self.hub.resync_all()
                            lost = False
                    assert self.pubsub is not None
                    message = await self.pubsub.get_message(timeout=1.0)
                    backoff = 0.1
                    if message is not None:
                        self._handle(message)
                except (aioredis.RedisError, OSError, RuntimeError) as exc:
                    if not lost:
                        log.warning("live: Redis subscription lost (%s); retrying", exc)
                    lost = True
                    await self._teardown()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 2.0)
        finally:
            await self._teardown()

    def _handle(self, message: dict[str, object]) -> None:
        kind = message.get("type")
        channel = message.get("channel")
        if isinstance(channel, bytes):
            channel = channel.decode()
        if kind == "subscribe" and isinstance(channel, str):
            event = self.confirmed.get(channel)
            if event is not None:
                event.set()
            return
        if kind != "message" or not isinstance(channel, str):
            return
        data = message.get("data")
        if not isinstance(data, bytes):
            return
        try:
            jam_part, audience = channel[self.prefix_len :].split(":", 1)
            rev, sent_at, frame = frame_decode(data)
            self.hub.feed(int(jam_part), audience, rev, frame, sent_at)
        except ValueError:
            log.warning("live: ignoring malformed frame on %s", channel)

    async def close(self) -> None:
        self.channels.clear()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(BaseException):
                await self.reader
        await self._teardown()
