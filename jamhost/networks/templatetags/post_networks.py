"""A post's networks as the post fragment shows them (templates/networks/_post_network.html):
the network it came from with links to the original and its author, and for a jamhost
post the other networks it went to. Every address shown is http(s) only (posts.weblinks):
a `javascript:` URL from a network or an import never becomes a link."""

from __future__ import annotations

import re
from typing import Any

from django import template

from jamhost.posts.weblinks import web_url

register = template.Library()

NETWORK_LABELS = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}
STATUSES = ("published", "queued", "held", "failed")
X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
X_STATUS_ID = re.compile(r"^[0-9]{1,25}$")


def network_label(key: str) -> str:
    """ "bluesky" → Bluesky; "mastodon" (or "mastodon:<instance>") → Mastodon."""
    return NETWORK_LABELS.get(str(key).split(":", 1)[0], "")


@register.filter
def web_link(url: Any) -> str:
    """The address if it is an http(s) URL; "" otherwise."""
    return web_url(url if isinstance(url, str) else "")


@register.filter
def origin_link(post: Any) -> str:
    """Where the post can be read on the network it came from (or, for jamhost posts,
    was published to on X)."""
    remote = web_url(post.remote_url or "")
    if remote:
        return remote
    if post.source == "x":
        status_id = str(post.external_id or "")
        return f"https://x.com/i/web/status/{status_id}" if X_STATUS_ID.match(status_id) else ""
    return web_url(str(x_entry(post).get("url") or ""))


@register.filter
def x_entry(post: Any) -> dict[str, Any]:
    """A jamhost post's state on X (post.elsewhere["x"]: status, url, error), or {}."""
    found = post.elsewhere.get("x") if isinstance(post.elsewhere, dict) else None
    return found if isinstance(found, dict) else {}


@register.filter
def author_link(post: Any) -> str:
    """The author's profile on their network: author_url, or for X authors x.com/<handle>."""
    url = web_url(post.author_url or "")
    if url:
        return url
    if post.source == "x" and X_HANDLE.match(post.author_handle or ""):
        return f"https://x.com/{post.author_handle}"
    return ""


@register.filter
def elsewhere_chips(post: Any) -> list[dict[str, str]]:
    """The networks besides X a jamhost post went to, from post.elsewhere: network,
    label, status, url (published only, http(s) only) and error; unknown entries left out."""
    found = post.elsewhere if isinstance(post.elsewhere, dict) else {}
    chips = []
    for key in sorted(found):
        entry = found[key]
        label = network_label(key)
        if not label or label == "X" or not isinstance(entry, dict):
            continue
        status = entry.get("status")
        if status not in STATUSES:
            continue
        url = web_url(str(entry.get("url") or "")) if status == "published" else ""
        instance = web_url(str(key).split(":", 1)[1]) if ":" in str(key) else ""
        host = instance.split("://", 1)[1].split("/")[0] if instance else ""
        chips.append(
            {
                "network": str(key).split(":", 1)[0],
                "label": f"{label} ({host})" if host else label,
                "status": status,
                "url": url,
                "error": str(entry.get("error") or "")[:300],
            }
        )
    return chips
