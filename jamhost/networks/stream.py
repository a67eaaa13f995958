"""Ingest through X's filtered stream, for accounts that have it (X_INGEST=stream).

One rule per jam in its ingest window (`#tag -is:retweet`, tagged with the jam's id) and
one long-lived connection (`manage.py x_stream`). Each line goes through the same upsert
as recent search (ingest.tweet_upsert), so a tweet is one post whichever path found it.
A line that cannot be read is logged and skipped; nothing on the stream ends it.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from typing import Any

import tweepy
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from jamhost.jams.models import Jam
from jamhost.networks.ingest import ingest_query, x_window
from jamhost.networks.tweets import PollResult, page_context, tweet_upsert
from jamhost.networks.usage import usage_record
from jamhost.networks.x import client as x

log = logging.getLogger(__name__)

TAG_PREFIX = "jamhost-jam:"


def _stream_client() -> tweepy.StreamingClient:
    stream = JamStream(settings.X_BEARER_TOKEN)
    x.session_mount(stream.session)
    return stream


def stream_rules_sync(*, now: datetime | None = None) -> dict[str, str]:
    """Make X's stream rules match the jams in their ingest window; returns tag -> rule.
    Rules jamhost did not make (no jamhost tag) are left alone."""
    now = now or timezone.now()
    wanted = {
        f"{TAG_PREFIX}{jam.pk}": ingest_query(jam)
        for jam in Jam.objects.filter(pk__in=x_window(now=now))
    }
    client = _stream_client()
    existing = x.call(client.get_rules).data or []
    stale = [
        rule.id
        for rule in existing
        if (rule.tag or "").startswith(TAG_PREFIX) and wanted.get(rule.tag) != rule.value
    ]
    have = {rule.tag for rule in existing if rule.id not in stale}
    if stale:
        x.call(client.delete_rules, stale)
    missing = [tweepy.StreamRule(value=v, tag=t) for t, v in wanted.items() if t not in have]
    if missing:
        x.call(client.add_rules, missing)
    return wanted


def stream_line_store(*, raw: bytes | str) -> PollResult:
    """Store one line of the stream in every jam whose rule it matched."""
    result = PollResult()
    try:
        item = json.loads(raw)
    except ValueError:
        result.skipped.append("a stream line that is not JSON")
        log.info("stream: skipped a line that is not JSON")
        return result
    if not isinstance(item, dict) or not isinstance(item.get("matching_rules"), list):
        result.skipped.append("a stream line without matching rules")
        log.info("stream: skipped a line without matching rules")
        return result
    jam_ids = set()
    for rule in item["matching_rules"]:
        tag = str(rule.get("tag") or "") if isinstance(rule, dict) else ""
        if tag.startswith(TAG_PREFIX) and tag[len(TAG_PREFIX) :].isdigit():
            jam_ids.add(int(tag[len(TAG_PREFIX) :]))
    includes = item.get("includes") if isinstance(item.get("includes"), dict) else {}
    raw_users = includes.get("users") if isinstance(includes, dict) else None
    users = {str(u["id"]): u for u in raw_users or [] if isinstance(u, dict) and u.get("id")}
    tweet = item.get("data")
    for jam in Jam.objects.filter(pk__in=jam_ids).select_related("host"):
        usage_record(jam_id=jam.pk, reads=1)
        ctx = page_context(jam, [tweet], users)
        tweet_upsert(jam=jam, tweet=tweet, ctx=ctx, result=result)
    for reason in result.skipped:
        log.info("stream: %s", reason)
    return result


class JamStream(tweepy.StreamingClient):
    """tweepy's stream connection (reconnects with X's backoff rules) feeding jamhost."""

    def __init__(self, bearer_token: str, *, max_items: int | None = None) -> None:
        super().__init__(bearer_token, max_retries=1_000_000)
        self.max_items = max_items
        self.items = 0

    def on_data(self, raw_data: Any) -> None:
        # tweepy ends the stream when a handler raises: nothing here may.
        try:
            if not connection.in_atomic_block:
                # A long-lived process: drop a connection PostgreSQL has since closed.
                close_old_connections()
            stream_line_store(raw=raw_data)
        except Exception:
            log.exception("stream: a line could not be stored")
        self.items += 1
        if self.max_items is not None and self.items >= self.max_items:
            self.disconnect()

    def on_request_error(self, status_code: int) -> None:
        log.warning("stream: X answered %s; reconnecting with backoff", status_code)


def stream_follow(*, threaded: bool, max_items: int | None = None) -> JamStream:
    """Connect and store what arrives (blocking unless `threaded`)."""
    stream = JamStream(settings.X_BEARER_TOKEN, max_items=max_items)
    x.session_mount(stream.session)
    stream.filter(
        threaded=threaded,
        tweet_fields=x.TWEET_FIELDS,
        expansions=["author_id"],
        user_fields=x.USER_FIELDS,
    )
    return stream


def stream_run(*, stop: threading.Event, rules_every: float = 30.0) -> None:
    """The x_stream process: keep the rules in step with the jams, and the stream open."""
    stream_rules_sync()
    stream = stream_follow(threaded=True)
    try:
        while not stop.wait(rules_every):
            try:
                stream_rules_sync()
            except x.XError as exc:
                log.warning("stream rules not updated: %s", exc.reason)
    finally:
        stream.disconnect()
