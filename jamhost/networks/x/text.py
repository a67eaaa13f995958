"""Post text as X means it: X's API sends `&`, `<` and `>` escaped and links as t.co
URLs; jamhost stores, shows and compares the text its author wrote."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_ESCAPED = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}
_SPACES = re.compile(r"\s+")


def x_unescape(text: str) -> str:
    """Undo X's escaping, once: `&amp;lt;` becomes `&lt;` (what the author typed), and
    entities X does not produce (`&copy;`) stay as they are."""
    return _ESCAPED.sub(lambda m: _UNESCAPED[m.group(1)], text)


def tweet_text(tweet: dict[str, Any]) -> str:
    """A post's text from an API answer, as its author wrote it: unescaped once, t.co
    links replaced by where they lead."""
    text = x_unescape(str(tweet.get("text") or ""))
    urls = (tweet.get("entities") or {}).get("urls") or []
    for entity in urls if isinstance(urls, list) else []:
        if isinstance(entity, dict) and entity.get("url") and entity.get("expanded_url"):
            text = text.replace(str(entity["url"]), str(entity["expanded_url"]))
    return text


def same_text(one: str, other: str) -> bool:
    """Whether two post texts are the same post's text: X normalizes to NFC and may trim
    or fold runs of whitespace; nothing else changes."""

    def comparable(text: str) -> str:
        return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()

    return comparable(one) == comparable(other)


def tweet_versions(tweet: dict[str, Any]) -> list[str]:
    """The ids of every version of an edited post, oldest first, this one last (X calls
    the field edit_history_tweet_ids; its 2026 spec, edit_history_post_ids)."""
    raw = tweet.get("edit_history_tweet_ids") or tweet.get("edit_history_post_ids")
    ids = [str(v) for v in raw if str(v).isdigit()] if isinstance(raw, list) else []
    own = str(tweet.get("id", ""))
    return ids if own in ids else [*ids, own]
