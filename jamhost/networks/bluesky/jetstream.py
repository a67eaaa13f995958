"""Bluesky's Jetstream (JSON commits over a websocket) read into networks.remote values.

`jetstream_event` reads one message; `jetstream_listen` keeps a connection open on a
thread of the caller's, reconnecting from the last time_us it delivered until `stop` is set.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from jamhost.networks.bluesky.posts import POST, post_from_record, profile_url
from jamhost.networks.remote import RemoteAuthor, RemoteDeletion, RemotePost

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Skipped:
    """A message that should have been a post commit and could not be read."""

    reason: str


JetstreamEvent = RemotePost | RemoteDeletion | Skipped
OnEvent = Callable[[JetstreamEvent, int], None]


def _decode(raw: bytes | str) -> dict[str, Any] | Skipped:
    try:
        decoded = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return Skipped("the message is not JSON")
    if not isinstance(decoded, dict):
        return Skipped("the message is not a JSON object")
    return decoded


def _event(decoded: dict[str, Any], tags: set[str]) -> JetstreamEvent | None:
    if decoded.get("kind") != "commit":
        return None  # identity and account events say nothing about posts
    commit, did = decoded.get("commit"), decoded.get("did")
    if not isinstance(commit, dict) or not isinstance(did, str) or not did.startswith("did:"):
        return Skipped("a commit without a DID or commit object")
    if commit.get("collection") != POST:
        return None
    rkey, operation = commit.get("rkey"), commit.get("operation")
    if not isinstance(rkey, str) or not rkey:
        return Skipped("a post commit without a record key")
    uri = f"at://{did}/{POST}/{rkey}"
    if operation == "delete":
        return RemoteDeletion(remote_id=uri)
    if operation not in ("create", "update"):
        return Skipped(f"{uri}: unknown operation {operation!r}")
    # Jetstream names the author by DID alone; the caller may look the profile up.
    author = RemoteAuthor(remote_id=did, handle=did, profile_url=profile_url("", did))
    edited_at = None
    if operation == "update" and isinstance(decoded.get("time_us"), int):
        edited_at = datetime.fromtimestamp(decoded["time_us"] / 1_000_000, tz=UTC)
    try:
        post = post_from_record(uri, author, commit.get("record"), edited_at=edited_at)
    except ValueError as exc:
        return Skipped(f"{uri}: {exc}")
    return post if tags.intersection(post.tags) else None


def jetstream_event(raw: bytes | str, tags: set[str]) -> JetstreamEvent | None:
    """One Jetstream message: a RemotePost for a new (or updated) post carrying one of
    `tags` (lower case, without "#"), a RemoteDeletion for any deleted post (Jetstream does
    not say which tags it had), Skipped with the reason for a message that cannot be read,
    None for everything else (other collections, other tags, identity events)."""
    decoded = _decode(raw)
    if isinstance(decoded, Skipped):
        return decoded
    return _event(decoded, tags)


def jetstream_url(url: str, cursor_us: int | None) -> str:
    """The subscription URL for posts (`url` is Jetstream's …/subscribe)."""
    query: dict[str, Any] = {"wantedCollections": POST}
    if cursor_us is not None:
        query["cursor"] = cursor_us
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"


def jetstream_listen(
    *,
    url: str,
    cursor_us: int | None,
    tags: set[str],
    on_event: OnEvent,
    stop: threading.Event,
    open_timeout: float = 10.0,
    max_backoff: float = 30.0,
) -> int | None:
    """Deliver Jetstream's post events to `on_event(event, time_us)` until `stop` is set,
    starting at `cursor_us` (None: from now). A cut connection is opened again, after a
    growing pause, from the last time_us delivered, and events already delivered are not
    delivered again. Returns the last time_us delivered (the caller's next cursor).
    Blocks: run it on a thread. An exception raised by `on_event` ends it."""
    delivered: int | None = None
    backoff = 0.5
    while not stop.is_set():
        position = delivered if delivered is not None else cursor_us
        try:
            with connect(
                jetstream_url(url, position), open_timeout=open_timeout, close_timeout=1.0
            ) as connection:
                backoff = 0.5
                while not stop.is_set():
                    try:
                        raw = connection.recv(timeout=0.5)
                    except TimeoutError:
                        continue
                    delivered = _deliver(raw, tags, delivered, on_event)
        except (OSError, WebSocketException, TimeoutError) as exc:
            log.info("Jetstream connection ended (%s); reconnecting", type(exc).__name__)
        stop.wait(backoff)
        backoff = min(backoff * 2, max_backoff)
    return delivered


def _deliver(
    raw: bytes | str, tags: set[str], delivered: int | None, on_event: OnEvent
) -> int | None:
    decoded = _decode(raw)
    if isinstance(decoded, Skipped):
        on_event(decoded, delivered or 0)
        return delivered
    time_us = decoded.get("time_us")
    if not isinstance(time_us, int) or isinstance(time_us, bool):
        on_event(Skipped("a message without time_us"), delivered or 0)
        return delivered
    if delivered is not None and time_us <= delivered:
        return delivered  # replayed after a reconnect
    event = _event(decoded, tags)
    if event is not None:
        on_event(event, time_us)
    return time_us
