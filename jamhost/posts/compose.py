"""Compose rules: the text jamhost publishes, and its length as X counts it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from twitter_text import parse_tweet
from twitter_text.config import config as _twitter_text_config
from twitter_text.extract_urls import extract_urls_with_indices

from jamhost.jams.answers import answer_number
from jamhost.jams.hashtags import text_has_hashtag

MAX_WEIGHTED_LENGTH = 280
_URL_LENGTH = int(_twitter_text_config["defaults"]["transformed_url_length"])
_LINE_ENDINGS = re.compile(r"\r\n|\r|\n")


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


def is_blank(body: str) -> bool:
    """True when nothing printable is left: empty, spaces, control or format characters."""
    return all(
        ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf", "Zs", "Zl", "Zp"} for ch in body
    )


@dataclass(frozen=True)
class Composed:
    text: str
    length: int
    question_number: int | None

    @property
    def fits(self) -> bool:
        return self.length <= MAX_WEIGHTED_LENGTH

    @property
    def remaining(self) -> int:
        return MAX_WEIGHTED_LENGTH - self.length


def compose_text(*, body: str, hashtag: str, question_number: int | None) -> Composed:
    """Build the published text: "A{n}: " + body + " #tag" (tag added only if missing).

    A body that already starts with an answer prefix keeps it and names its question.
    """
    body = body.strip()
    written = answer_number(body)
    if written is not None:
        text, number = body, written
    elif question_number:
        text, number = f"A{question_number}: {body}", question_number
    else:
        text, number = body, None
    if not text_has_hashtag(text, hashtag):
        text = f"{text} #{hashtag}"
    return Composed(text=text, length=weighted_length(text), question_number=number)
