"""The gateway: what a network does for jamhost, whichever network it is.

Every network implements `Gateway`: its text rules (the limit and how it counts), its
cost, whether it is set up here, and the calls the engines make: publish a post under an
idempotency key (networks.deliveries), read a page of the posts carrying a tag after a
cursor (networks.cursors), and keep an account's token working (networks.links). The
engines name no network: they ask `gateway_for(route.network)`.

X predates the others and keeps engines of its own (networks.publishing, networks.ingest:
X has no idempotency key, so an unclear create is settled by look-ups). Its gateway
answers the same questions (rules, cost, status) and says `own_engine`.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Protocol

from jamhost.networks.remote import Published, RemotePage, TextRules

if TYPE_CHECKING:
    from jamhost.networks.models import JamNetwork, LinkedAccount


class Gateway(Protocol):
    network: str
    label: str
    # True for X, whose publishing and ingest run through their own engines.
    own_engine: bool

    def available(self) -> bool:
        """Whether this install offers the network (configured, switched on)."""
        ...

    def rules(self, service: str = "") -> TextRules:
        """The text limit on `service` (a Mastodon instance has its own)."""
        ...

    def count(self, text: str, service: str = "") -> int:
        """The length of `text` as the network counts it."""
        ...

    def cost(self) -> str:
        """What using it costs a host, in one sentence."""
        ...

    def expected_id(self, account: LinkedAccount, key: str) -> str:
        """The id a post published under `key` will have, when the network lets the
        client choose it (Bluesky's record key); "" otherwise."""
        ...

    def publish(
        self, *, account: LinkedAccount, token: str, text: str, key: str, reply_to: str = ""
    ) -> Published:
        """Publish `text` from `account`, as a reply to the post `reply_to` (its remote id
        on this network) when given and still there. Sending again with the same `key`
        never posts twice. Raises networks.remote errors."""
        ...

    def search(self, *, route: JamNetwork, token: str, since: str, page: str) -> RemotePage:
        """One page of posts carrying the route's tag: after `since` (a position this
        gateway returned as `newest`, or "" for the jam's start), from `page` (a
        `next_page` it returned, or "" for the first)."""
        ...

    def start_position(self, route: JamNetwork) -> str:
        """The `since` of a jam's first search: its ingest window's start."""
        ...

    def access_token(self, account: LinkedAccount) -> str:
        """A working token for the account, refreshed if it ran out (stored again).
        Raises RemoteUnauthorized when the person must link again."""
        ...


@cache
def _gateways() -> dict[str, Gateway]:
    from jamhost.networks.bluesky.gateway import BlueskyGateway
    from jamhost.networks.mastodon.gateway import MastodonGateway
    from jamhost.networks.x.gateway import XGateway

    found: list[Gateway] = [XGateway(), BlueskyGateway(), MastodonGateway()]
    return {g.network: g for g in found}


def gateway_for(network: str) -> Gateway:
    try:
        return _gateways()[network]
    except KeyError:
        raise ValueError(f"no gateway for network {network!r}") from None


def gateways() -> list[Gateway]:
    """Every network jamhost knows, X first."""
    return list(_gateways().values())


def gateways_available() -> list[Gateway]:
    return [g for g in gateways() if g.available()]
