from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from jamhost.live.fanout import get_hub
from jamhost.live.routing import websocket_urlpatterns

REV = re.compile(r'data-rev="(\d+)"')
POST_ID = re.compile(r'<article[^>]*\bid="post-(\d+)"')
REMOVED = re.compile(r'class="post-removed" data-post="(\d+)"')


def socket(path: str, user: Any = None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    communicator.scope["user"] = user if user is not None else AnonymousUser()
    return communicator


async def receive_until_caught_up(ws: WebsocketCommunicator, timeout: float = 5) -> list[str]:
    frames = []
    while True:
        frame = await ws.receive_from(timeout=timeout)
        frames.append(frame)
        if 'class="caught-up"' in frame:
            return frames


async def receive_frames(ws: WebsocketCommunicator, count: int, timeout: float = 5) -> list[str]:
    return [await ws.receive_from(timeout=timeout) for _ in range(count)]


async def receive_post_ids(ws: WebsocketCommunicator, count: int, timeout: float = 5) -> list[int]:
    """Read frames until `count` post fragments arrived; return their post ids in order."""
    ids: list[int] = []
    while len(ids) < count:
        frame = await ws.receive_from(timeout=timeout)
        ids.extend(int(i) for i in POST_ID.findall(frame))
    return ids


def post_ids(frames: list[str]) -> list[int]:
    return [int(i) for frame in frames for i in POST_ID.findall(frame)]


@pytest.fixture
async def hub() -> AsyncIterator[Any]:
    hub = get_hub()
    yield hub
    await hub.close()
    await asyncio.sleep(0)
