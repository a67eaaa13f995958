"""X's text rules: a post's length as X counts it (weighted: links 23, CJK and emoji 2,
limit 280), the characters X refuses in a post (U+FFFE, U+FEFF, U+FFFF), and whether a
text holds a URL as X finds one (a post with a link is priced higher). All come from
twitter-text, X's own library, whose reference cases the suite reads at test time."""

from __future__ import annotations

import re
import unicodedata

from twitter_text import extract_urls, parse_tweet
from twitter_text.config import config as _twitter_text_config
from twitter_text.extract_urls import extract_urls_with_indices
from twitter_text.has_invalid_characters import has_invalid_characters

from jamhost.core.text_rules import TextRule

X_LIMIT = 280
_URL_LENGTH = int(_twitter_text_config["defaults"]["transformed_url_length"])
_LINE_ENDINGS = re.compile(r"\r\n|\r|\n")
# X's own wording, kept as it was when X was the only network.
X_TOO_LONG = (
    "This {what} is {length} characters as X counts them, over the limit of {limit}. "
    "Shorten it by {over}."
)


def weighted_length(text: str) -> int:
    """X's weighted length: URLs 23, CJK and emoji 2, most other characters 1."""
    if text.isascii():
        # The same count as parse_tweet's without its emoji scan (no emoji is ASCII),
        # which is most of its cost: every ASCII character weighs 1, a URL 23, after
        # the same normalisation of line endings (NFC leaves ASCII as it is).
        normalized = _LINE_ENDINGS.sub("\n", text)
        urls = extract_urls_with_indices(normalized)
        return len(normalized) + sum(_URL_LENGTH - len(url["url"]) for url in urls)
    return int(parse_tweet(text).weightedLength)


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


def x_rule(hashtag: str) -> TextRule:
    """X's rule for a post carrying `hashtag` there."""
    return TextRule(
        network="x",
        label="X",
        limit=X_LIMIT,
        unit="characters",
        hashtag=hashtag,
        url_weight=_URL_LENGTH,
        counter=weighted_length,
        refuses=x_refused_message,
        too_long_wording=X_TOO_LONG,
        refuses_repeats=True,  # "duplicate content"
    )
