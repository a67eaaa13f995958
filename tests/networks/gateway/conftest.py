"""Both test servers at once (Bluesky and Mastodon), with the site set up to use them and
X switched off: the gateway's publishing, ingest and linking run against real servers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jamhost.networks.crypto import token_encrypt
from jamhost.networks.models import JamNetwork, LinkedAccount, Network
from testservers.bluesky.state import BlueskyEmulator
from testservers.mastodon.state import MastodonEmulator

sys.path.insert(0, str(Path(__file__).parent.parent / "mastodon"))
from bluesky.conftest import validate as bluesky_validate
from mastodon_entities import validate_answer

REDIRECT = "http://testserver/accounts/mastodon/callback/"


@pytest.fixture
def bsky() -> Iterator[BlueskyEmulator]:
    emulator = BlueskyEmulator(validate=bluesky_validate)
    emulator.start()
    yield emulator
    emulator.stop()
    assert not emulator.validation_errors, emulator.validation_errors


@pytest.fixture
def masto() -> Iterator[MastodonEmulator]:
    emulator = MastodonEmulator(validate=validate_answer)
    emulator.account_add("alice", "Alice Example")
    emulator.start()
    yield emulator
    emulator.stop()
    assert not emulator.validation_errors, emulator.validation_errors


@pytest.fixture
def networks(settings, bsky: BlueskyEmulator, masto: MastodonEmulator):  # type: ignore[no-untyped-def]
    """The site on both servers, X off."""
    settings.BLUESKY_ENABLED = True
    settings.BLUESKY_SERVICE = bsky.public_url
    settings.MASTODON_ENABLED = True
    settings.MASTODON_REDIRECT_URI = REDIRECT
    settings.MASTODON_INSTANCES = []
    settings.NETWORK_TIMEOUT = 1.0
    settings.SWEEP_INTERVAL = 0.1
    settings.X_CLIENT_ID = ""
    settings.X_TOKEN_KEY = "test-token-key-not-secret"
    return bsky, masto


def link_bluesky(bsky: BlueskyEmulator, user: Any, handle: str = "") -> LinkedAccount:
    """`user` with a Bluesky account on the server and a live session, as linking makes."""
    handle = handle or f"{user.username}.bsky.test"
    did = bsky.did_of(handle) or bsky.account_add(handle, user.username)
    access, refresh = bsky.session_issue(did)
    from testservers.bluesky.state import APP_PASSWORD

    return LinkedAccount.objects.create(
        user=user,
        network=Network.BLUESKY,
        service=bsky.public_url,
        remote_id=did,
        handle=handle,
        access_token=token_encrypt(access),
        refresh_token=token_encrypt(refresh),
        app_password=token_encrypt(APP_PASSWORD),
    )


def link_mastodon(masto: MastodonEmulator, user: Any, username: str = "") -> LinkedAccount:
    """`user` with a local account on the Mastodon server and a token for it."""
    username = username or user.username
    found = [a for a, v in masto.accounts.items() if v["username"] == username]
    account_id = found[0] if found else masto.account_add(username)
    token = masto.token_add(account_id)
    return LinkedAccount.objects.create(
        user=user,
        network=Network.MASTODON,
        service=masto.base_url,
        remote_id=f"{masto.base_url}/users/{username}",
        handle=f"{username}@{masto.domain}",
        access_token=token_encrypt(token),
    )


def routes(
    jam: Any, bsky: BlueskyEmulator, masto: MastodonEmulator, **kwargs: Any
) -> tuple[JamNetwork, JamNetwork]:
    """The jam on Bluesky and on the Mastodon server (hashtags from kwargs)."""
    blue = JamNetwork.objects.create(
        jam=jam, network=Network.BLUESKY, hashtag=kwargs.get("bluesky_tag", "")
    )
    mast = JamNetwork.objects.create(
        jam=jam,
        network=Network.MASTODON,
        service=masto.base_url,
        hashtag=kwargs.get("mastodon_tag", ""),
    )
    return blue, mast
