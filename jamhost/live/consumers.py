"""Websocket consumers for the live room. A consumer connects, checks who may listen,
catches the socket up from the database, and then only forwards text the hub hands it:
no rendering or query per frame.

Protocol: the client connects to ws/jams/<slug>/live/ (viewers) or …/console/
(moderators) with `?after=<rev>`, the last rev it has applied. It receives the current
state of everything that changed after that rev (in as few messages as fit
CATCH_UP_CHARS), a `caught-up` marker at the end of the last, then live frames, one
change per message. Every frame's elements carry data-rev; the client ignores an
element older than the one it shows.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from jamhost import metrics
from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_moderate, can_view, open_to_all
from jamhost.live.auth import socket_user
from jamhost.live.bus import layer_group, user_group
from jamhost.live.catchup import frames_after
from jamhost.live.eager import eager_start
from jamhost.live.fanout import get_hub
from jamhost.live.frames import caught_up_marker
from jamhost.posts.actions import notice_html, socket_action
from jamhost.posts.render import MODERATOR, VIEWER

log = logging.getLogger(__name__)

NO_LAYER = "__no_layer__"  # a channel layer alias that is not configured: none at all
CLOSE_NOT_FOUND = 4404
CLOSE_FORBIDDEN = 4403
CLOSE_TRY_AGAIN = 1013  # backlog overflow: htmx's ws extension reconnects and catches up
MAX_FRAME_CHARS = 16_384
# Catch-up goes out in messages of about this many characters, the caught-up marker in
# the last one: a message per change cost a reconnecting socket ~100 sends (and the
# client as many messages) where a handful do.
CATCH_UP_CHARS = 262_144


def batches(texts: list[str], limit: int = CATCH_UP_CHARS) -> list[str]:
    """The texts joined, in order, into as few messages of at most ~limit characters as
    possible (a longer text is a message of its own)."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for text in texts:
        if current and size + len(text) > limit:
            messages.append("".join(current))
            current, size = [], 0
        current.append(text)
        size += len(text)
    if current:
        messages.append("".join(current))
    return messages


def parse_after(query_string: bytes) -> int:
    values = parse_qs(query_string.decode("latin-1")).get("after", ["0"])
    try:
        return max(0, int(values[-1]))
    except ValueError:
        return 0


@database_sync_to_async
def _may_view(user: Any, jam: Jam) -> bool:
    """A draft jam is seen only by its members and staff."""
    return can_view(user=user, jam=jam)


@database_sync_to_async
def _may_moderate(user: Any, jam: Jam) -> bool:
    return can_moderate(user=user, jam=jam)


@database_sync_to_async
def _console_action(jam_id: int, user: Any, message: dict[str, Any]) -> tuple[str, bool]:
    return socket_action(jam_id=jam_id, user=user, message=message)


@database_sync_to_async
def _catch_up(jam_id: int, audience: str, after: int) -> tuple[int, list[tuple[int, str]]]:
    return frames_after(jam_id=jam_id, audience=audience, after=after)


class LiveConsumer(AsyncWebsocketConsumer):
    """A viewer's socket: anyone, no account needed. Receives; sends nothing that counts."""

    audience = VIEWER
    channel_layer: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Viewers need no channel layer: their frames come from the hub. Skipping it
        # saves a layer channel (a Redis subscription, a task) per viewer.
        if self.audience == VIEWER and settings.LIVE_FANOUT != "layer":
            self.channel_layer_alias = NO_LAYER
        self.jam: Jam | None = None
        # Made when a frame must wait, dropped when drained: most sockets, most of the
        # time, have nothing waiting (a deque is 600 bytes).
        self.outbox: deque[tuple[int | None, str]] | None = None
        # Read once: deliver() runs for every socket on every frame, and each read of
        # django.conf.settings goes through LazyObject.__getattribute__ (a fifth of the
        # server's CPU at 1,000 viewers, measured by bench/).
        self.backlog = settings.LIVE_SOCKET_BACKLOG
        self.last_rev = 0
        self.catching_up = True
        self.flusher: asyncio.Task[None] | None = None
        self.closed = False
        self.joined = False
        self.frames_ignored = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' dispatch loop, run in the connection's own task when the consumer
        listens to no channel layer (viewers): Channels' loop starts a second task per
        socket to wait on `receive`, with its futures, for the socket's whole life."""
        if self.channel_layer_alias != NO_LAYER:
            await super().__call__(scope, receive, send)
            return
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    # Connecting ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Viewers of a jam that is open to all cost no database work here once another
        socket of the process has read the jam and its recent frames (live.fanout)."""
        jam = await get_hub().jam(self.scope["url_route"]["kwargs"]["slug"])
        if jam is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if not await self.allowed(jam):
            log.warning(
                "refused %s socket for jam %s to user %s",
                self.audience,
                jam.pk,
                getattr(await socket_user(self.scope), "pk", None),
            )
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.jam = jam
        await self.accept()
        await self.join()
        self.joined = True
        after = parse_after(self.scope.get("query_string", b""))
        if settings.LIVE_FANOUT == "layer":
            upto, frames = await _catch_up(jam.pk, self.audience, after)
        else:
            upto, frames = await get_hub().catch_up(jam, self.audience, after)
        self.last_rev = max(self.last_rev, upto)
        texts = [text for _rev, text in frames]
        for message in batches([*texts, caught_up_marker(self.last_rev)]):
            await self.send(text_data=message)
        self.catching_up = False
        self._kick()

    async def allowed(self, jam: Jam) -> bool:
        if open_to_all(jam):
            return True
        return await _may_view(await socket_user(self.scope), jam)

    async def join(self) -> None:
        assert self.jam is not None
        if settings.LIVE_FANOUT == "layer":
            await self.channel_layer.group_add(
                layer_group(self.jam.pk, self.audience), self.channel_name
            )
        else:
            await get_hub().join(self.jam.pk, self.audience, self)

    async def disconnect(self, code: int) -> None:
        self.closed = True
        if self.flusher is not None:
            self.flusher.cancel()
        if self.jam is not None and self.joined:
            if settings.LIVE_FANOUT == "layer":
                await self.channel_layer.group_discard(
                    layer_group(self.jam.pk, self.audience), self.channel_name
                )
            else:
                get_hub().leave(self.jam.pk, self.audience, self)

    # Frames -----------------------------------------------------------------------------

    def deliver(self, rev: int | None, text: str) -> None:
        if self.closed:
            return
        if self.outbox is None:
            self.outbox = deque()
        elif len(self.outbox) >= self.backlog:
            self.closed = True
            self.outbox = None
            asyncio.get_running_loop().create_task(self._overflow())
            return
        self.outbox.append((rev, text))
        self._kick()

    def _kick(self) -> None:
        if self.outbox and not self.catching_up and self.flusher is None and not self.closed:
            # Usually writes everything at once; a task only if the socket must wait.
            self.flusher = eager_start(self._flush())

    async def _flush(self) -> None:
        try:
            while self.outbox:
                rev, text = self.outbox.popleft()
                if rev is not None:
                    if rev <= self.last_rev:
                        continue
                    self.last_rev = rev
                await self.base_send({"type": "websocket.send", "text": text})
        except Exception:
            self.closed = True
        finally:
            self.flusher = None
            if not self.outbox:
                self.outbox = None

    async def _overflow(self) -> None:
        log.info(
            "closing a slow %s socket of jam %s (backlog full)",
            self.audience,
            self.jam.pk if self.jam else None,
        )
        if self.jam is not None and settings.LIVE_FANOUT != "layer":
            get_hub().leave(self.jam.pk, self.audience, self)
            self.joined = False
        await self.close(code=CLOSE_TRY_AGAIN)

    async def live_frame(self, event: dict[str, Any]) -> None:
        """LIVE_FANOUT=layer only: a frame through the channel layer."""
        self.deliver(event.get("rev"), event["text"])

    # Receiving --------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = self.parse(text_data, bytes_data)
        if message is None:
            return
        await self.handle(message)

    def parse(self, text_data: str | None, bytes_data: bytes | None) -> dict[str, Any] | None:
        """A JSON object from the client, or None for anything else (counted, and logged
        once per socket: a client sending garbage must not write a log line per frame)."""
        if text_data is None or len(text_data) > MAX_FRAME_CHARS:
            self.ignored("binary" if text_data is None else "huge")
            return None
        try:
            message = json.loads(text_data)
        except ValueError:
            self.ignored("malformed")
            return None
        if not isinstance(message, dict):
            self.ignored("non-object")
            return None
        return message

    def ignored(self, what: str) -> None:
        metrics.REFUSED.labels(reason=f"{self.audience}_frame").inc()
        self.frames_ignored += 1
        if self.frames_ignored == 1:
            log.info(
                "ignoring a %s frame on a %s socket of jam %s (later ones on this socket "
                "are only counted)",
                what,
                self.audience,
                self.jam.pk if self.jam else None,
            )

    async def handle(self, message: dict[str, Any]) -> None:
        """Viewers send nothing that changes anything; an action here is ignored."""
        if "action" in message:
            self.ignored(f"{str(message.get('action'))[:40]!r} action")


class ConsoleConsumer(LiveConsumer):
    """A moderator's socket: the host, the jam's moderators and staff."""

    audience = MODERATOR

    async def allowed(self, jam: Jam) -> bool:
        return await _may_moderate(await socket_user(self.scope), jam)

    async def join(self) -> None:
        await super().join()
        assert self.jam is not None
        user = self.scope["user"]
        await self.channel_layer.group_add(user_group(self.jam.pk, user.pk), self.channel_name)

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if self.jam is not None and self.joined:
            user = self.scope["user"]
            await self.channel_layer.group_discard(
                user_group(self.jam.pk, user.pk), self.channel_name
            )

    async def member_changed(self, event: dict[str, Any]) -> None:
        """The user's role changed: a user who may no longer moderate is cut off."""
        if self.jam is not None and not await _may_moderate(self.scope.get("user"), self.jam):
            await self.close(code=CLOSE_FORBIDDEN)

    def parse(self, text_data: str | None, bytes_data: bytes | None) -> dict[str, Any] | None:
        message = super().parse(text_data, bytes_data)
        if message is None and not self.closed:
            # A moderator's client is ours: an unreadable frame is a bug worth showing.
            self.deliver(
                None,
                notice_html(
                    "The console could not read that action; reload the page and try again.",
                    ok=False,
                ),
            )
        return message

    async def handle(self, message: dict[str, Any]) -> None:
        """A moderation action (posts.actions): the outcome, or a refusal, goes back to this
        socket only; the change itself reaches every screen through the live publish."""
        if self.jam is None:
            return
        notice, may_stay = await _console_action(self.jam.pk, self.scope.get("user"), message)
        if may_stay:
            self.deliver(None, notice)
            return
        log.warning(
            "refused action %r from user %s on the console of jam %s: not a moderator",
            str(message.get("action"))[:40],
            getattr(self.scope.get("user"), "pk", None),
            self.jam.pk,
        )
        # Sent directly (not through the outbox) so it goes out before the close.
        await self.send(text_data=notice)
        await self.close(code=CLOSE_FORBIDDEN)
