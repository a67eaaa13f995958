"""Helpers of the listener tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import OperationalError

from jamhost.jams.models import Jam
from jamhost.networks.listeners import listeners_run
from jamhost.networks.models import JamNetwork
from jamhost.posts.models import Post


def wait_for(check: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not settled(check):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def settled(check: Callable[[], bool]) -> bool:
    """check(), where a read refused because a listener is writing counts as "not yet". The
    SQLite test database is one in-memory database the threads share, which refuses such a
    read at once ("database table is locked") where jamhost's own SQLite file would wait."""
    try:
        return check()
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False


def stored(jam: Jam, network: str, remote_id: str) -> list[Post]:
    return list(Post.objects.filter(jam=jam, source=network, external_id=remote_id))


def route_add(jam: Jam, network: str, service: str = "", hashtag: str = "") -> JamNetwork:
    return JamNetwork.objects.create(jam=jam, network=network, service=service, hashtag=hashtag)


class Supervisor:
    """listeners_run on a thread, re-reading the routes every 0.2 s."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=listeners_run,
            kwargs={
                "stop": self.stop,
                "refresh_every": 0.2,
                "jetstream_backoff": 0.2,
                "mastodon_retry": 0.1,
            },
            daemon=True,
        )
        self.thread.start()

    def end(self) -> float:
        """Stop it; returns how long that took."""
        began = time.monotonic()
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the supervisor did not stop"
        return time.monotonic() - began
