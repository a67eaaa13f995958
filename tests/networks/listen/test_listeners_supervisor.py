"""The supervisor: only the jams in their ingest window are listened to, jams entering and
leaving it are followed, it stops cleanly, and it runs as `manage.py networks_listen` and
inside the embedded server."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from jamhost.asgi import application
from jamhost.jams.models import Jam, JamStatus
from jamhost.networks.models import Network, NetworkCursor
from jamhost.posts.models import Post
from tests.factories import JamFactory, live_jam
from tests.networks.listen.support import route_add, settled, stored, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]
BSKY, MASTO = Network.BLUESKY, Network.MASTODON


def stream_tags(masto) -> list[str]:  # type: ignore[no-untyped-def]
    return [r[2]["tag"][0] for r in list(masto.requests) if r[1].startswith("/api/v1/streaming")]


def test_only_jams_in_their_ingest_window_are_listened_to(bsky, masto, supervisor):
    live = live_jam()
    later = JamFactory(starts_at=timezone.now() + timedelta(days=7), status=JamStatus.SCHEDULED)
    for jam in (live, later):
        route_add(jam, BSKY)
        route_add(jam, MASTO, service=masto.base_url)
    off = route_add(live_jam(), MASTO, service=masto.base_url)
    off.enabled = False
    off.save()
    alice = bsky.account_add("alice.test")
    running = supervisor()
    wait_for(lambda: masto.streams_open == 1 and bool(bsky.subscribers))
    later_uri = bsky.post_add(alice, f"too early #{later.hashtag}", tags=[later.hashtag.lower()])
    live_uri = bsky.post_add(alice, f"in time #{live.hashtag}", tags=[live.hashtag.lower()])
    masto.status_add(masto.consenting_user, f"too early #{later.hashtag}")
    wait_for(lambda: len(stored(live, BSKY, live_uri)) == 1)
    assert stored(later, BSKY, later_uri) == []
    assert not Post.objects.filter(jam=later).exists()
    assert stream_tags(masto) == [live.hashtag.lower()]

    # Stopping ends every connection, quickly.
    assert running.end() < 5
    wait_for(lambda: masto.streams_open == 0 and not bsky.subscribers)


def test_jams_entering_the_window_are_followed_and_those_leaving_it_dropped(
    bsky, masto, supervisor
):
    first = live_jam()
    route_add(first, MASTO, service=masto.base_url)
    supervisor()
    wait_for(lambda: masto.streams_open == 1)
    assert not bsky.subscribers  # no Bluesky route yet: no Jetstream connection

    second = live_jam()
    route_add(second, MASTO, service=masto.base_url)
    blue = route_add(second, BSKY, hashtag="SecondOnBluesky")
    wait_for(lambda: masto.streams_open == 2 and bool(bsky.subscribers))
    alice = bsky.account_add("alice.test")
    uri = bsky.post_add(alice, "late arrival #secondonbluesky", tags=["secondonbluesky"])
    time_us = bsky.events[-1][0]
    wait_for(lambda: len(stored(second, BSKY, uri)) == 1)
    # Saved once the post's transaction committed: on SQLite (one shared in-memory
    # database here) the jam's row is free to change only from then on.
    wait_for(lambda: NetworkCursor.objects.get(route=blue).stream_position == str(time_us))

    Jam.objects.filter(pk=first.pk).update(
        status=JamStatus.ENDED, ended_at=timezone.now() - timedelta(days=1)
    )
    wait_for(lambda: masto.streams_open == 1)
    Jam.objects.filter(pk=second.pk).update(
        status=JamStatus.ENDED, ended_at=timezone.now() - timedelta(days=1)
    )
    wait_for(lambda: masto.streams_open == 0 and not bsky.subscribers)


def test_the_command_listens_until_sigterm_and_leaves_the_handlers_as_it_found_them(bsky):
    jam = live_jam()
    route_add(jam, BSKY)
    alice = bsky.account_add("alice.test")
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    stored_ids: list[int] = []

    def drive() -> None:
        try:
            wait_for(lambda: bool(bsky.subscribers))
            uri = bsky.post_add(alice, f"via the command #{jam.hashtag}", tags=[jam.hashtag])
            wait_for(lambda: len(stored(jam, BSKY, uri)) == 1)
            stored_ids.append(stored(jam, BSKY, uri)[0].pk)
        finally:
            connection.close()
            os.kill(os.getpid(), signal.SIGTERM)

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    out = StringIO()
    call_command("networks_listen", stdout=out)
    driver.join(timeout=10)
    assert len(stored_ids) == 1
    assert out.getvalue().splitlines()[-1] == "stopped"
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    wait_for(lambda: not bsky.subscribers)


def test_the_command_without_streams_configured_waits_for_sigterm(settings):
    settings.BLUESKY_JETSTREAM_URL = ""
    settings.MASTODON_STREAMING = False
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    out = StringIO()
    call_command("networks_listen", stdout=out)
    assert "nothing to listen to" in out.getvalue()


async def test_the_embedded_server_listens_and_stops_on_shutdown(bsky, settings: Any) -> None:
    settings.EMBEDDED = True
    settings.SWEEP_INTERVAL = 0  # no sweep, no search poll: the stream alone delivers
    jam = await database_sync_to_async(live_jam)()
    await database_sync_to_async(route_add)(jam, BSKY)
    alice = bsky.account_add("alice.test")
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    server = asyncio.get_running_loop().create_task(
        application({"type": "lifespan"}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    assert (await asyncio.wait_for(outbox.get(), 5))["type"] == "lifespan.startup.complete"
    try:
        await asyncio.to_thread(wait_for, lambda: bool(bsky.subscribers))
        uri = bsky.post_add(alice, f"embedded #{jam.hashtag}", tags=[jam.hashtag.lower()])
        stored_once = database_sync_to_async(
            lambda: settled(lambda: len(stored(jam, BSKY, uri)) == 1)
        )
        found = False
        for _ in range(200):
            found = await stored_once()
            if found:
                break
            await asyncio.sleep(0.05)
        assert found
        assert bsky.requests_to("app.bsky.feed.searchPosts") == []
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await asyncio.wait_for(outbox.get(), 15))["type"] == "lifespan.shutdown.complete"
        await server
    assert not [t for t in threading.enumerate() if t.name == "network-listeners"]
    await asyncio.to_thread(wait_for, lambda: not bsky.subscribers)
