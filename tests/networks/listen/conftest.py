"""The live listeners against the Bluesky- and Mastodon-compatible servers, each answer
checked as in their own tests (tests/networks/bluesky, tests/networks/mastodon)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from tests.networks.bluesky.conftest import validate as bluesky_validate
from tests.networks.listen.support import Supervisor
from tests.networks.mastodon.mastodon_entities import validate_answer
from testservers.bluesky.state import BlueskyEmulator
from testservers.mastodon.state import MastodonEmulator


def _read_uncommitted(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.cursor().execute("PRAGMA read_uncommitted = 1")


@pytest.fixture(autouse=True)
def _sqlite_readers_take_no_locks() -> Iterator[None]:
    """On SQLite the test database is one in-memory database the threads share (shared
    cache), where a reader holds table locks that make a writer fail at once instead of
    waiting. jamhost's own SQLite file (WAL) lets readers and a writer proceed together;
    so do readers here that do not lock."""
    if connection.vendor != "sqlite":
        yield
        return
    connection_created.connect(_read_uncommitted)
    connection.ensure_connection()
    _read_uncommitted(None, connection)
    yield
    connection_created.disconnect(_read_uncommitted)


@pytest.fixture
def bsky(settings: Any) -> Iterator[BlueskyEmulator]:
    emulator = BlueskyEmulator(validate=bluesky_validate)
    url = emulator.start()
    settings.BLUESKY_ENABLED = True
    settings.BLUESKY_SERVICE = url
    settings.BLUESKY_JETSTREAM_URL = emulator.jetstream_url
    settings.NETWORK_TIMEOUT = 2.0
    yield emulator
    emulator.stop()
    assert not emulator.validation_errors, emulator.validation_errors


@pytest.fixture
def masto(settings: Any) -> Iterator[MastodonEmulator]:
    emulator = MastodonEmulator(validate=validate_answer)
    emulator.account_add("alice", "Alice Example")
    emulator.start()
    settings.MASTODON_ENABLED = True
    settings.MASTODON_STREAMING = True
    settings.NETWORK_TIMEOUT = 2.0
    yield emulator
    emulator.stop()
    assert not emulator.validation_errors, emulator.validation_errors


@pytest.fixture
def supervisor() -> Iterator[Callable[[], Supervisor]]:
    started: list[Supervisor] = []

    def start() -> Supervisor:
        found = Supervisor()
        started.append(found)
        return found

    yield start
    for found in started:
        found.end()
