"""The embedded default with X configured: the networks loop runs on the server's own
event loop, reads the hashtag from X into the live room and publishes queued posts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async

from jamhost.asgi import application
from jamhost.networks import sweep
from jamhost.networks.models import XStatus
from jamhost.posts.models import Post
from jamhost.posts.services import post_compose
from tests.factories import live_jam
from tests.live.conftest import hub, receive_until_caught_up, socket  # noqa: F401
from tests.networks.conftest import link_x
from tests.xstate import on_x

pytestmark = [pytest.mark.django_db(transaction=True)]


def linked_live_jam(x_server: Any) -> tuple[Any, Any]:
    jam = live_jam()
    return jam, link_x(x_server, jam.host)


async def test_embedded_loop_ingests_into_sockets_and_publishes(
    hub: Any,  # noqa: F811
    x_server: Any,
    settings: Any,
) -> None:
    settings.EMBEDDED = True
    settings.SWEEP_INTERVAL = 0.2
    jam, account = await database_sync_to_async(linked_live_jam)(x_server)
    viewer = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    assert (await viewer.connect())[0]
    await receive_until_caught_up(viewer)
    fan = x_server.user_add("embedded_fan", "Embedded Fan")
    x_server.tweet_add(fan, f"A1: straight from X ✨ {jam.tag}")

    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    server = asyncio.get_running_loop().create_task(
        application({"type": "lifespan"}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    assert (await asyncio.wait_for(outbox.get(), 5))["type"] == "lifespan.startup.complete"
    try:
        frames: list[str] = []
        while "straight from X" not in "".join(frames):
            frames.append(await viewer.receive_from(timeout=10))
        assert "@embedded_fan" in "".join(frames)

        # With the loop running, the loop (not the request) publishes a composed post.
        post = await database_sync_to_async(post_compose)(
            jam=jam, user=account.user, body="composed while embedded"
        )
        for _ in range(100):
            post = await database_sync_to_async(Post.objects.get)(pk=post.pk)
            if post.elsewhere.get("x", {}).get("status") == XStatus.PUBLISHED:
                break
            await asyncio.sleep(0.1)
        assert (await database_sync_to_async(on_x)(post)).status == XStatus.PUBLISHED
        assert post.elsewhere["x"]["status"] == XStatus.PUBLISHED
        assert [t["text"] for t in x_server.tweets_by(account.x_user_id)] == [post.text]
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await asyncio.wait_for(outbox.get(), 5))["type"] == "lifespan.shutdown.complete"
        await asyncio.wait_for(server, 5)
        await viewer.disconnect()
    assert not sweep.embedded_loop_running
