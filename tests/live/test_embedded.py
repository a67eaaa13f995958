"""The embedded default runs the schedule sweep on the server's own event loop; its
frames must reach sockets served by the same loop (the in-process hub, no Redis)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from jamhost.asgi import application
from jamhost.jams.models import JamStatus
from tests.factories import JamFactory, QuestionFactory
from tests.live.conftest import post_ids, receive_until_caught_up, socket

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def due_jam():  # type: ignore[no-untyped-def]
    jam = JamFactory(status=JamStatus.SCHEDULED, starts_at=timezone.now() - timedelta(seconds=1))
    QuestionFactory(jam=jam, number=1, offset_minutes=0)
    return jam


async def test_lifespan_sweep_releases_questions_to_connected_sockets(
    hub: Any, settings: Any
) -> None:
    settings.EMBEDDED = True
    settings.SWEEP_INTERVAL = 0.1
    jam = await due_jam()
    viewer = socket(f"/ws/jams/{jam.slug}/live/?after=0")
    assert (await viewer.connect())[0]
    await receive_until_caught_up(viewer)

    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    server = asyncio.get_running_loop().create_task(
        application({"type": "lifespan"}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    assert (await asyncio.wait_for(outbox.get(), 5))["type"] == "lifespan.startup.complete"
    try:
        frames = []
        while not post_ids(frames):
            frames.append(await viewer.receive_from(timeout=5))
        text = "".join(frames)
        assert 'data-status="live"' in text
        assert "Q1: " in text and f"#{jam.hashtag}" in text
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await asyncio.wait_for(outbox.get(), 5))["type"] == "lifespan.shutdown.complete"
        await asyncio.wait_for(server, 5)
        await viewer.disconnect()
