"""uvicorn's websocket protocol (its websockets-sansio implementation), holding less per
socket.

An idle viewer is most of a live jam's sockets, and what each one holds is the server's
memory per viewer (bench/: `--idle`). uvicorn keeps, for a socket's whole life, the
handshake's request and response (websockets' Request and Response with their header
multi-dicts) and the request headers in the scope, though nothing reads them once the
accept is sent (the Origin check, cookies and session are read at connect); and it
gives each socket an asyncio.Queue for the messages it receives and an asyncio.Event for
flow control, three deques and two Events of about 600 bytes each, for what is at most a
message or two at a time. Here the handshake is let go after the accept, and the queue
and the flag are the few-byte objects below: about 8 KB less per socket.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class Inbox:
    """What uvicorn uses of asyncio.Queue: put_nowait, get, empty (one reader)."""

    __slots__ = ("items", "waiter")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self.items.append(item)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Any:
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.items.pop(0)

    def empty(self) -> bool:
        return not self.items


class Flag:
    """What uvicorn uses of asyncio.Event: set, clear, wait."""

    __slots__ = ("value", "waiters")

    def __init__(self) -> None:
        self.value = False
        self.waiters: list[asyncio.Future[None]] | None = None

    def set(self) -> None:
        self.value = True
        waiters, self.waiters = self.waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self.value = False

    async def wait(self) -> bool:
        while not self.value:  # sending waits only while the client's buffer is full
            waiter = asyncio.get_running_loop().create_future()
            if self.waiters is None:
                self.waiters = []
            self.waiters.append(waiter)
            await waiter
        return True


class SlimWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Flag()  # type: ignore[assignment]
        self.writable.set()

    async def send(self, message: Any) -> None:
        accepting = not self.handshake_complete and message["type"] == "websocket.accept"
        await super().send(message)
        if accepting and self.handshake_complete:
            # websockets' parser keeps the request in its suspended frame: empty its
            # headers rather than only dropping uvicorn's reference.
            self.request.headers.clear()
            self.response.headers.clear()
            self.request = self.response = None  # type: ignore[assignment]
            # Every layer's copy of the scope shares this list: empty it for all of them.
            self.scope["headers"].clear()  # type: ignore[attr-defined]
