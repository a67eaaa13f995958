"""Mastodon's wire conventions that the server's state and its handler share: faults,
times, status HTML as Mastodon renders it, and its length rule."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# What Mastodon links in a status's text: http(s) links, @mentions, #hashtags.
_LINK = r"(?P<link>https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'])"
_MENTION = (
    r"(?P<mention>(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)"
    r"(?:@(?P<domain>[\w.-]+\w))?)"
)
_TAG = r"(?P<tag>(?<![=/\w&])#(?P<name>\w*[^\W\d_]\w*))"
ENTITIES = re.compile(f"{_LINK}|{_MENTION}|{_TAG}", re.IGNORECASE)
SHOWN = 30  # characters of a long link's address shown before the ellipsis


@dataclass
class Fault:
    """One answer out of the ordinary. Kinds: "429", "500", "502", "503", "garbage" (not
    JSON), "slow" (served after `delay` s: a client with a shorter timeout gives up),
    "drop" (the connection closes unanswered), "raw" (any status, headers and body), and
    for POST /api/v1/statuses "drop_after_create" and "503_after_create" (the status IS
    stored, then its answer is lost)."""

    kind: str
    delay: float = 0.0
    reset_in: int = 60
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    @property
    def after_create(self) -> bool:
        return self.kind.endswith("_after_create")


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def error(message: str) -> dict[str, str]:
    """Mastodon's Error entity."""
    return {"error": message}


def _link_html(url: str) -> str:
    scheme, _, rest = url.partition("://")
    prefix = scheme + "://"
    if rest.startswith("www."):
        prefix, rest = prefix + "www.", rest[4:]
    shown, hidden = rest[:SHOWN], rest[SHOWN:]
    cls = "ellipsis" if hidden else ""
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{html.escape(prefix)}</span>'
        f'<span class="{cls}">{html.escape(shown)}</span>'
        f'<span class="invisible">{html.escape(hidden)}</span></a>'
    )


def status_html(text: str, base_url: str, domain: str) -> str:
    """`text` as Mastodon's TextFormatter renders a local status: escaped (&amp; &quot;
    &#39;), paragraphs for blank lines, <br /> for newlines, and links, mentions and
    hashtags as anchors."""

    def entity(found: re.Match[str]) -> str:
        if found.group("link"):
            return _link_html(found.group("link"))
        if found.group("mention"):
            user, where = found.group("user"), found.group("domain") or domain
            url = f"{base_url}/@{user}" if where == domain else f"https://{where}/@{user}"
            return (
                f'<span class="h-card" translate="no"><a href="{html.escape(url)}" '
                f'class="u-url mention">@<span>{html.escape(user)}</span></a></span>'
            )
        name = found.group("name")
        return (
            f'<a href="{base_url}/tags/{html.escape(name.lower())}" class="mention hashtag" '
            f'rel="tag">#<span>{html.escape(name)}</span></a>'
        )

    paragraphs = []
    for para in re.split(r"\n\s*\n", text.strip()):
        pieces, last = [], 0
        for found in ENTITIES.finditer(para):
            pieces += [html.escape(para[last : found.start()]), entity(found)]
            last = found.end()
        pieces.append(html.escape(para[last:]))
        paragraphs.append("<p>" + "".join(pieces).replace("\n", "<br />") + "</p>")
    return "".join(paragraphs)


def hashtags(text: str) -> list[str]:
    """The status's hashtags as Mastodon stores them (lower case), in order, once each."""
    found = [m.group("name").lower() for m in ENTITIES.finditer(text) if m.group("tag")]
    return list(dict.fromkeys(found))


def mentions(text: str) -> list[tuple[str, str]]:
    return [
        (m.group("user"), m.group("domain") or "")
        for m in ENTITIES.finditer(text)
        if m.group("mention")
    ]


def status_length(text: str, url_weight: int) -> int:
    """Mastodon's StatusLengthValidator: each link counts `url_weight`, a remote mention
    counts its local part only; characters are code points after NFC (near enough to
    Mastodon's grapheme count for the texts tests send)."""

    def counted(found: re.Match[str]) -> str:
        if found.group("link"):
            return "x" * url_weight
        if found.group("mention"):
            return "@" + found.group("user")
        return found.group(0)

    return len(ENTITIES.sub(counted, text))
