"""In the embedded default the polls sweep runs on the server's own event loop: a
run-sheet poll that falls due opens, and its frame reaches the sockets of that loop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async

from jamhost.asgi import application
from jamhost.polls.models import PollState
from jamhost.polls.services import poll_add
from tests.live.conftest import receive_until_caught_up, socket
from tests.polls.conftest import PollRoom

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def room_with_a_due_poll() -> tuple[PollRoom, Any]:
    room = PollRoom()  # started five minutes ago
    poll = poll_add(
        jam=room.jam,
        user=room.host,
        text="Tea or coffee?",
        options=["Tea", "Coffee"],
        open_minutes=5,
        offset_minutes=1,
    )
    return room, poll


async def test_lifespan_sweep_opens_a_due_poll_on_connected_sockets(
    hub: Any, settings: Any
) -> None:
    settings.EMBEDDED = True
    settings.SWEEP_INTERVAL = 0.1
    room, poll = await room_with_a_due_poll()
    viewer = socket(f"/ws/jams/{room.jam.slug}/live/?after={room.jam.rev}")
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
        frame = ""
        while f'id="poll-{poll.pk}"' not in frame:
            frame = await viewer.receive_from(timeout=5)
        assert f'data-state="{PollState.OPEN}"' in frame and "Tea or coffee?" in frame
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await asyncio.wait_for(outbox.get(), 5))["type"] == "lifespan.shutdown.complete"
        await asyncio.wait_for(server, 5)
        await viewer.disconnect()
