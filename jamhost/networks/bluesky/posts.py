"""Bluesky posts read into the values every network speaks (networks.remote): a search
hit (app.bsky.feed.defs#postView) or a Jetstream commit's record becomes a RemotePost.
Anything malformed raises ValueError with the reason, for the caller to skip it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from atproto_client import models
from atproto_client.exceptions import ModelError
from atproto_client.models.utils import get_or_create
from pydantic import ValidationError

from jamhost.networks.remote import RemoteAuthor, RemotePost

POST = "app.bsky.feed.post"
WEB = "https://bsky.app"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def parse_time(raw: object) -> datetime | None:
    if not isinstance(raw, str) or "T" not in raw:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def iso(when: datetime) -> str:
    """An atproto datetime: UTC, millisecond precision, with a Z."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def post_rkey(*, created_at: datetime, seed: str) -> str:
    """A record key for a post jamhost publishes: a TID (what app.bsky.feed.post keys
    must be) from `created_at` to the microsecond, its clock id from `seed`. The same
    (created_at, seed) gives the same key, so a resent post lands on the same record."""
    micros = int(created_at.timestamp() * 1_000_000)
    clock_id = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:2], "big") & 0x3FF
    value = ((micros & ((1 << 53) - 1)) << 10) | clock_id
    return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def uri_parts(uri: str) -> tuple[str, str, str] | None:
    """(did, collection, rkey) of an at:// URI, or None."""
    if not uri.startswith("at://"):
        return None
    parts = uri[len("at://") :].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def profile_url(handle: str, did: str) -> str:
    return f"{WEB}/profile/{handle if handle and handle != 'handle.invalid' else did}"


def post_url(handle: str, did: str, rkey: str) -> str:
    return f"{profile_url(handle, did)}/post/{rkey}"


def _features(record: models.AppBskyFeedPost.Record) -> list[Any]:
    return [feature for facet in record.facets or [] for feature in facet.features]


def record_tags(record: models.AppBskyFeedPost.Record) -> tuple[str, ...]:
    """The post's tags, lower case, without "#": its #tag facets, then its `tags`."""
    found = [f.tag for f in _features(record) if isinstance(f, models.AppBskyRichtextFacet.Tag)]
    found += list(record.tags or [])
    return tuple(dict.fromkeys(t.lower().lstrip("#") for t in found if t.strip("#")))


def record_links(record: models.AppBskyFeedPost.Record) -> tuple[str, ...]:
    links = [f.uri for f in _features(record) if isinstance(f, models.AppBskyRichtextFacet.Link)]
    return tuple(dict.fromkeys(links))


def record_read(raw: Any) -> models.AppBskyFeedPost.Record:
    """A post record checked against the app.bsky.feed.post lexicon."""
    try:
        record = get_or_create(raw, models.AppBskyFeedPost.Record, strict=True)
    except (ModelError, ValidationError, TypeError, ValueError) as exc:
        raise ValueError(f"its record is not an {POST} record") from exc
    if not isinstance(record, models.AppBskyFeedPost.Record):
        raise ValueError(f"its record is not an {POST} record")
    return record


def post_from_record(
    uri: str, author: RemoteAuthor, raw_record: Any, *, edited_at: datetime | None = None
) -> RemotePost:
    parts = uri_parts(uri)
    if parts is None or parts[1] != POST:
        raise ValueError(f"{uri!r} is not a post's at:// URI")
    record = record_read(raw_record)
    created_at = parse_time(record.created_at)
    if created_at is None:
        raise ValueError(f"its createdAt {record.created_at!r} is not a datetime")
    return RemotePost(
        remote_id=uri,
        url=post_url(author.handle, author.remote_id, parts[2]),
        author=author,
        text=record.text,
        created_at=created_at,
        tags=record_tags(record),
        links=record_links(record),
        lang=(record.langs or [""])[0],
        reply_to=record.reply.parent.uri if record.reply else "",
        edited_at=edited_at,
    )


def author_from(view: Any) -> RemoteAuthor:
    """A RemoteAuthor from app.bsky.actor.defs#profileViewBasic (or a profile view)."""
    return RemoteAuthor(
        remote_id=view.did,
        handle=view.handle,
        display_name=view.display_name or "",
        avatar_url=view.avatar or "",
        profile_url=profile_url(view.handle, view.did),
    )


def post_from_view(item: Any) -> tuple[RemotePost, datetime]:
    """A search hit as a RemotePost, and its sortAt (the earlier of createdAt and
    indexedAt, what searchPosts' `since` compares)."""
    try:
        view = get_or_create(item, models.AppBskyFeedDefs.PostView, strict=True)
    except (ModelError, ValidationError, TypeError, ValueError) as exc:
        raise ValueError("it is not a post view (uri, cid, author, record, indexedAt)") from exc
    if not isinstance(view, models.AppBskyFeedDefs.PostView):
        raise ValueError("it is not a post view")
    raw_record = item.get("record") if isinstance(item, dict) else None
    post = post_from_record(view.uri, author_from(view.author), raw_record)
    indexed_at = parse_time(view.indexed_at)
    if indexed_at is None:
        raise ValueError(f"its indexedAt {view.indexed_at!r} is not a datetime")
    return post, min(post.created_at, indexed_at)
