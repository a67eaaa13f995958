"""X's text rules that several apps need (questions, posts, publishing): which characters
X refuses in a post, and whether a text holds a URL as X finds one (a post with a link is
priced higher). Both come from twitter-text, X's own library, whose reference cases the
suite reads at test time."""

from __future__ import annotations

import unicodedata

from twitter_text import extract_urls
from twitter_text.has_invalid_characters import has_invalid_characters


def x_refused_characters(text: str) -> list[str]:
    """The characters in `text` that X refuses in a post (U+FFFE, U+FEFF, U+FFFF), once
    each, in order."""
    if not has_invalid_characters(text):
        return []
    return list(dict.fromkeys(ch for ch in text if has_invalid_characters(ch)))


def x_refused_message(text: str, what: str = "post") -> str:
    """A sentence a person can act on when `text` holds characters X refuses, else ""."""
    refused = x_refused_characters(text)
    if not refused:
        return ""
    names = ", ".join(
        f"U+{ord(ch):04X} {unicodedata.name(ch, 'noncharacter').lower()}" for ch in refused
    )
    return (
        f"Your {what} contains a character X refuses ({names}); it is invisible, often pasted "
        "in from another app. Remove it and try again."
    )


def text_has_url(text: str) -> bool:
    """True when X finds a URL in `text` (twitter-text's URL extraction, with or without
    http://, any valid domain)."""
    return bool(extract_urls(text))
