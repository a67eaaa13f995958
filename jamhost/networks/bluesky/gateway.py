"""Bluesky through the gateway: 300 graphemes, free to read and post within its rate
limits, posts published under a record key jamhost chooses (so a resend is harmless and
ingest knows the post before the answer arrives), the tag read with searchPosts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from jamhost.networks.bluesky import client
from jamhost.networks.bluesky.posts import post_rkey
from jamhost.networks.bluesky.text import BLUESKY_RULES, bluesky_length
from jamhost.networks.ingest import ingest_start
from jamhost.networks.remote import Published, RemotePage, RemoteUnauthorized, TextRules

if TYPE_CHECKING:
    from jamhost.networks.models import JamNetwork, LinkedAccount

# Search lags behind posting: every search reaches this far before the newest post seen,
# and the posts it finds again are recognised by their URI.
SEARCH_OVERLAP = timedelta(minutes=3)


def record_key(key: str) -> str:
    """The record key (a TID) of the post published under delivery key
    "<microseconds>.<post id>": the same key always gives the same record."""
    micros = int(key.partition(".")[0])
    return post_rkey(created_at=datetime.fromtimestamp(micros / 1_000_000, tz=UTC), seed=key)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BlueskyGateway:
    network = "bluesky"
    label = "Bluesky"
    own_engine = False

    def available(self) -> bool:
        return bool(settings.BLUESKY_ENABLED)

    def rules(self, service: str = "") -> TextRules:
        return BLUESKY_RULES

    def count(self, text: str, service: str = "") -> int:
        return bluesky_length(text)

    def cost(self) -> str:
        return (
            "Free to read and to post. Each account may create about 1,600 posts an hour "
            "(Bluesky's rate limits); jamhost waits out a limit and says so."
        )

    def expected_id(self, account: LinkedAccount, key: str) -> str:
        return f"at://{account.remote_id}/app.bsky.feed.post/{record_key(key)}"

    def publish(
        self, *, account: LinkedAccount, token: str, text: str, key: str, reply_to: str = ""
    ) -> Published:
        micros = int(key.partition(".")[0])
        created = datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
        try:
            return self._publish(account, token, text, key, created, reply_to)
        except RemoteUnauthorized:
            # An expired or revoked session: refreshed, or made again from the app
            # password; RemoteUnauthorized from there means the person links again.
            from jamhost.networks.links import bluesky_token

            token = bluesky_token(account, force=True)
            return self._publish(account, token, text, key, created, reply_to)

    def _publish(
        self,
        account: LinkedAccount,
        token: str,
        text: str,
        key: str,
        created: datetime,
        reply_to: str,
    ) -> Published:
        refs = None
        if reply_to:
            refs = client.post_ref(
                service=account.service,
                access_token=token,
                uri=reply_to,
                timeout=settings.NETWORK_TIMEOUT,
            )
        return client.post_create(
            service=account.service,
            access_token=token,
            did=account.remote_id,
            text=text,
            rkey=record_key(key),
            created_at=created,
            reply_to=refs[0] if refs else None,
            reply_root=refs[1] if refs else None,
            handle=account.handle,
            timeout=settings.NETWORK_TIMEOUT,
        )

    def search(self, *, route: JamNetwork, token: str, since: str, page: str) -> RemotePage:
        tag = route.hashtag or route.jam.hashtag
        start = parse_datetime(since) if since else None
        reach = _iso(start - SEARCH_OVERLAP) if start is not None else None
        return client.search_tag(
            appview=settings.BLUESKY_SERVICE,
            token=token,
            tag=tag,
            since=reach,
            cursor=page or None,
            timeout=settings.NETWORK_TIMEOUT,
        )

    def start_position(self, route: JamNetwork) -> str:
        return _iso(ingest_start(route.jam, timezone.now()))

    def access_token(self, account: LinkedAccount) -> str:
        from jamhost.networks.links import bluesky_token

        return bluesky_token(account)
