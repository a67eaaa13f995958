"""Linked Bluesky and Mastodon accounts and jam routes, as the tests of a jam's networks
need them (rows only: no network is called)."""

from __future__ import annotations

from typing import Any

from jamhost.networks.crypto import token_encrypt
from jamhost.networks.models import JamNetwork, LinkedAccount, Network

BSKY = "https://bsky.social"
MASTO = "https://mastodon.example"


def linked(user: Any, network: str, *, service: str = "", handle: str = "") -> LinkedAccount:
    service = service or (BSKY if network == Network.BLUESKY else MASTO)
    handle = handle or (
        f"{user.username}.bsky.social"
        if network == Network.BLUESKY
        else f"{user.username}@{service.split('://')[1]}"
    )
    return LinkedAccount.objects.create(
        user=user,
        network=network,
        service=service,
        remote_id=f"id:{network}:{handle}",
        handle=handle,
        profile_url=f"{service}/@{handle}",
        access_token=token_encrypt("token"),
    )


def route(jam: Any, network: str, **fields: Any) -> JamNetwork:
    if network == Network.MASTODON:
        fields.setdefault("service", MASTO)
    return JamNetwork.objects.create(jam=jam, network=network, **fields)
