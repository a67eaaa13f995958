"""A Mastodon Status (from the REST API through Mastodon.py, or from the streaming API as
plain JSON) as the RemotePost every network's client speaks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from jamhost.networks.mastodon.text import html_links, html_to_text
from jamhost.networks.remote import RemoteAuthor, RemotePost, RemoteRefused

BOOST = "a boost"


class Malformed(ValueError):
    """A status without what a RemotePost needs; the message says what is missing."""


def instance_base(instance: str) -> str:
    """`instance` as a base URL: "mastodon.social" -> "https://mastodon.social". Anything
    that cannot be a server's address is RemoteRefused (trying again will not help)."""
    raw = instance.strip().rstrip("/")
    if "://" not in raw:
        raw = "https://" + raw
    parts = urlsplit(raw)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or c in "@\\" for c in parts.netloc)
    ):
        raise RemoteRefused(f"{instance!r} is not a Mastodon server's address")
    return f"{parts.scheme}://{parts.netloc}"


def instance_host(instance: str) -> str:
    return urlsplit(instance_base(instance)).netloc


def status_ref(instance: str, status_id: str) -> str:
    """A status known only by its id on `instance`: the address of its API resource."""
    return f"{instance_base(instance)}/api/v1/statuses/{status_id}"


def _when(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise Malformed(f"{name} is not a time") from exc
    else:
        raise Malformed(f"no {name}")
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def author_of(account: Any, instance: str) -> RemoteAuthor:
    """The status's account; `acct` is qualified with `instance` for its local accounts."""
    if not isinstance(account, Mapping):
        raise Malformed("no account")
    uri, acct = _text(account.get("uri")), _text(account.get("acct"))
    if not uri or not acct:
        raise Malformed("an account without uri or acct")
    handle = acct if "@" in acct else f"{acct}@{instance_host(instance)}"
    return RemoteAuthor(
        remote_id=uri,
        handle=handle,
        display_name=_text(account.get("display_name")),
        avatar_url=_text(account.get("avatar")),
        profile_url=_text(account.get("url")),
    )


def is_boost(status: Mapping[str, Any]) -> bool:
    return status.get("reblog") is not None


def remote_post(
    status: Any, instance: str, reply_uris: Mapping[str, str] | None = None
) -> RemotePost:
    """The RemotePost of one status (not a boost). `reply_uris` maps status ids to their
    URIs; a reply to a status not in it refers to that status as status_ref(). Raises
    Malformed."""
    if not isinstance(status, Mapping):
        raise Malformed("not a status")
    if is_boost(status):
        raise Malformed(BOOST)
    uri = _text(status.get("uri"))
    if not uri:
        raise Malformed("a status without uri")
    content = status.get("content")
    if not isinstance(content, str):
        raise Malformed("a status without content")
    tags = status.get("tags")
    names = (
        [t.get("name") for t in tags if isinstance(t, Mapping)] if isinstance(tags, list) else []
    )
    reply_id = status.get("in_reply_to_id")
    reply_to = ""
    if reply_id is not None and str(reply_id):
        reply_to = (reply_uris or {}).get(str(reply_id)) or status_ref(instance, str(reply_id))
    edited = status.get("edited_at")
    return RemotePost(
        remote_id=uri,
        url=_text(status.get("url")) or uri,
        author=author_of(status.get("account"), instance),
        text=html_to_text(content),
        created_at=_when(status.get("created_at"), "created_at"),
        tags=tuple(dict.fromkeys(n.lower().lstrip("#") for n in names if isinstance(n, str) and n)),
        links=tuple(html_links(content)),
        lang=_text(status.get("language")),
        reply_to=reply_to,
        edited_at=_when(edited, "edited_at") if edited else None,
    )
