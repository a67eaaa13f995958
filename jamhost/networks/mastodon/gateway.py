"""Mastodon through the gateway: each instance's own limit (links count 23), free within
the instance's rate limits, statuses published with an Idempotency-Key, the tag's
timeline read with min_id paging."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from jamhost.networks.ingest import ingest_start
from jamhost.networks.mastodon import client
from jamhost.networks.mastodon.text import mastodon_length
from jamhost.networks.models import MastodonApp
from jamhost.networks.remote import Published, RemotePage, TextRules

if TYPE_CHECKING:
    from jamhost.networks.models import JamNetwork, LinkedAccount


SEARCH_OVERLAP = timedelta(minutes=3)


def _app(service: str) -> MastodonApp | None:
    return MastodonApp.objects.filter(service=service).first() if service else None


def snowflake_at(moment: datetime) -> str:
    """The smallest Mastodon status id of that moment (ids are milliseconds << 16)."""
    return str(int(moment.timestamp() * 1000) << 16)


def _overlapped(since: str) -> str:
    """A status that reaches the timeline late (federation, queues) has an id older than
    the newest seen: each search reaches SEARCH_OVERLAP further back (ids are snowflakes)
    and the posts it finds again are recognised by their URI."""
    if not since.isdigit():
        return since
    reach = int(since) - (int(SEARCH_OVERLAP.total_seconds() * 1000) << 16)
    return str(max(reach, 0))


class MastodonGateway:
    network = "mastodon"
    label = "Mastodon"
    own_engine = False

    def available(self) -> bool:
        return bool(settings.MASTODON_ENABLED)

    def rules(self, service: str = "") -> TextRules:
        app = _app(service)
        limit = app.max_characters if app is not None else 500
        weight = app.url_weight if app is not None else 23
        return TextRules(limit, f"characters, links count {weight}")

    def count(self, text: str, service: str = "") -> int:
        app = _app(service)
        return mastodon_length(text, url_weight=app.url_weight if app is not None else 23)

    def cost(self) -> str:
        return (
            "Free to read and to post. An instance lets each account post about 300 "
            "statuses in 3 hours by default; jamhost waits out a limit and says so."
        )

    def expected_id(self, account: LinkedAccount, key: str) -> str:
        return ""

    def publish(
        self, *, account: LinkedAccount, token: str, text: str, key: str, reply_to: str = ""
    ) -> Published:
        return client.status_post(
            instance=account.service,
            token=token,
            text=text,
            idempotency_key=f"jamhost-{key}",
            in_reply_to_id=reply_to or None,
            timeout=settings.NETWORK_TIMEOUT,
        )

    def search(self, *, route: JamNetwork, token: str, since: str, page: str) -> RemotePage:
        min_id = page or (_overlapped(since) if since else None)
        return client.tag_page(
            instance=route.service,
            token=token or None,
            tag=route.hashtag or route.jam.hashtag,
            min_id=min_id,
            timeout=settings.NETWORK_TIMEOUT,
        )

    def start_position(self, route: JamNetwork) -> str:
        return snowflake_at(ingest_start(route.jam, timezone.now()))

    def access_token(self, account: LinkedAccount) -> str:
        from jamhost.networks.links import mastodon_token

        return mastodon_token(account)
