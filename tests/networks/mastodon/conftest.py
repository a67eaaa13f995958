"""The Mastodon-compatible server on loopback, with every JSON answer it sends checked
against the attributes Mastodon's documentation does not mark optional
(mastodon_entities.py), so the server cannot drift from the documented entities without
these tests failing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mastodon_entities import validate_answer

from testservers.mastodon.state import MastodonEmulator


@pytest.fixture
def masto() -> Iterator[MastodonEmulator]:
    """The server, with `alice` (local, the one who consents at /oauth/authorize)."""
    emulator = MastodonEmulator(validate=validate_answer)
    emulator.account_add("alice", "Alice Example")
    emulator.start()
    yield emulator
    emulator.stop()
    assert not emulator.validation_errors, emulator.validation_errors


@pytest.fixture
def token(masto: MastodonEmulator) -> str:
    return masto.token_add(masto.consenting_user)
