"""X through the gateway: its rules, cost and status. Publishing and ingest keep X's own
engines (networks.publishing, networks.ingest), so the generic ones refuse it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from jamhost.networks.remote import Published, RemotePage, TextRules
from jamhost.networks.x.rules import X_LIMIT, weighted_length

if TYPE_CHECKING:
    from jamhost.networks.models import JamNetwork, LinkedAccount

X_RULES = TextRules(X_LIMIT, "X's weights: links 23, CJK and emoji 2")


class XGateway:
    network = "x"
    label = "X"
    own_engine = True

    def available(self) -> bool:
        return bool(settings.X_CLIENT_ID)

    def rules(self, service: str = "") -> TextRules:
        return X_RULES

    def count(self, text: str, service: str = "") -> int:
        return weighted_length(text)

    def cost(self) -> str:
        return (
            f"Pay per use: ${settings.X_PRICE_READ:g} per post read, "
            f"${settings.X_PRICE_CREATE:g} per post created "
            f"(${settings.X_PRICE_CREATE_URL:g} with a link)."
        )

    def expected_id(self, account: LinkedAccount, key: str) -> str:
        return ""

    def publish(
        self, *, account: LinkedAccount, token: str, text: str, key: str, reply_to: str = ""
    ) -> Published:
        raise NotImplementedError("X posts go through networks.publishing")

    def search(self, *, route: JamNetwork, token: str, since: str, page: str) -> RemotePage:
        raise NotImplementedError("X is read by networks.ingest")

    def start_position(self, route: JamNetwork) -> str:
        return ""

    def access_token(self, account: LinkedAccount) -> str:
        raise NotImplementedError("X tokens: networks.accounts.x_access_token")
