"""Hashtag rules, as X applies them, and the reservation of a tag for a jam's window.

Extraction follows twitter-text (X's own library, Java and JS, v3): the same letter, mark,
numeral and special-character classes, the same boundary before the `#`, the same
refusals after it (`#`, `://`) and no tag inside a URL. X's reference cases for it are in
../shared/twitter-text-conformance/extract.yml, which the suite reads at test time.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

import regex
from django.conf import settings
from django.core.exceptions import ValidationError
from twitter_text import extract_urls_with_indices

from jamhost.jams.models import run_window

MAX_LENGTH = 100

# twitter-text's Regex.java: HASHTAG_LETTERS, HASHTAG_NUMERALS, HASHTAG_SPECIAL_CHARS.
_LETTERS = r"\p{L}\p{M}"
_NUMERALS = r"\p{Nd}"
_SPECIAL = (
    "_"
    "\u200c"  # zero width non-joiner (Persian)
    "\u200d"  # zero width joiner (Sinhala)
    "\ua67e"  # Cyrillic kavyka
    "\u05be"  # Hebrew maqaf
    "\u05f3"  # Hebrew geresh
    "\u05f4"  # Hebrew gershayim
    "\uff5e"  # fullwidth tilde
    "\u301c"  # wave dash
    "\u309b"  # katakana-hiragana voiced sound mark
    "\u309c"  # katakana-hiragana semi-voiced sound mark
    "\u30a0"  # katakana-hiragana double hyphen
    "\u30fb"  # katakana middle dot
    "\u3003"  # ditto mark
    "\u0f0b"  # Tibetan intersyllabic tsheg
    "\u0f0c"  # Tibetan delimiter tsheg bstar
    "\u00b7"  # middle dot
)
_TAG_CHARS = _LETTERS + _NUMERALS + _SPECIAL
_VALID_HASHTAG = regex.compile(
    rf"(^|\uFE0E|\uFE0F|[^&{_TAG_CHARS}])([#\uFF03])(?![\uFE0F\u20E3])"
    rf"([{_TAG_CHARS}]*[{_LETTERS}][{_TAG_CHARS}]*)",
    regex.IGNORECASE,
)
_INVALID_AFTER = regex.compile(r"[#\uFF03]|://")  # matched at the tag's end


@dataclass(frozen=True)
class Hashtag:
    tag: str  # without its '#'
    start: int  # index of the '#' in the text
    end: int


def hashtags_extract(text: str) -> list[Hashtag]:
    """The hashtags X links in `text`, in order (twitter-text's extractHashtagsWithIndices,
    with URL overlap removed)."""
    if "#" not in text and "\uff03" not in text:
        return []
    found = [
        Hashtag(tag=m.group(3), start=m.start(3) - 1, end=m.end(3))
        for m in _VALID_HASHTAG.finditer(text)
        if not _INVALID_AFTER.match(text, m.end())
    ]
    if not found:
        return []
    urls = [tuple(u["indices"]) for u in extract_urls_with_indices(text)]
    return [h for h in found if not any(s < h.end and h.start < e for s, e in urls)]


def hashtag_fold(tag: str) -> str:
    """The form in which X's hashtags are the same tag: case and canonical Unicode
    normalization folded (`#Café` = `#cafe` + U+0301 = `#CAFÉ`)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", tag).casefold())


def text_has_hashtag(text: str, hashtag: str) -> bool:
    """True when X would link `#hashtag` in `text` (in any case or normalization); a tag
    inside a URL, or one that runs on into more tag characters, is not it."""
    wanted = hashtag_fold(hashtag.lstrip("#\uff03"))
    return any(hashtag_fold(h.tag) == wanted for h in hashtags_extract(text))


@cache
def _latin_lookalikes() -> dict[str, str]:
    """Non-ASCII characters that Unicode's confusables list (UTS #39, as shipped by the
    confusable-homoglyphs package) says look like one ASCII character: Cyrillic es (U+0441)
    -> 'c', Greek omicron (U+03BF) -> 'o' …"""
    raw = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    table: dict[str, str] = {}
    for char, glyphs in json.loads(raw).items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_like = sorted(g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isalnum())
        ascii_like = [g for g in ascii_like if g.isascii()]
        if ascii_like:
            table[char] = ascii_like[0].casefold()
    return table


def hashtag_key(tag: str) -> str:
    """The form in which tags are compared for reservations and "the same hashtag": its
    look-alike skeleton. Case, compatibility forms (fullwidth letters) and letters of other
    scripts that look like Latin ones (a Cyrillic es for a 'c') all fold to one key, so a
    look-alike cannot be reserved over the real tag's window."""
    folded = unicodedata.normalize("NFKC", tag.strip().lstrip("#\uff03")).casefold()
    lookalikes = _latin_lookalikes()
    skeleton = "".join(lookalikes.get(ch, ch) for ch in unicodedata.normalize("NFD", folded))
    return unicodedata.normalize("NFC", skeleton)[:MAX_LENGTH]


def hashtag_clean(tag: str) -> str:
    """Return the tag without its '#', or raise ValidationError saying what is wrong.
    Accepts exactly the tags X links (twitter-text's isValidHashtag)."""
    cleaned = unicodedata.normalize("NFC", tag.strip())
    if cleaned[:1] in ("#", "\uff03"):
        cleaned = cleaned[1:]
    if not cleaned:
        raise ValidationError("Enter a hashtag, such as #PodcastChat.", code="empty")
    if len(cleaned) > MAX_LENGTH:
        raise ValidationError(
            f"A hashtag can be at most {MAX_LENGTH} characters; this one has {len(cleaned)}.",
            code="too_long",
        )
    extracted = hashtags_extract(f"#{cleaned}")
    if len(extracted) == 1 and extracted[0].tag == cleaned:
        return cleaned
    if not any(unicodedata.category(ch)[0] == "L" for ch in cleaned):
        raise ValidationError(
            "A hashtag cannot be only digits, underscores or marks: X does not link it. "
            "Add a letter.",
            code="no_letter",
        )
    raise ValidationError(
        "A hashtag may only contain letters, digits and underscores, as X links them (no "
        "spaces, punctuation or a second #).",
        code="invalid_characters",
    )


def reservation_window(
    starts_at: datetime,
    duration_minutes: int,
    *,
    went_live_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> tuple[datetime, datetime]:
    """Where a jam holds its tag: its run plus the margin either side. Once it has gone
    live or ended, the real run (models.run_window): a jam ended early frees its tag from
    its real end plus the margin; an extended one holds it to its new end."""
    start, end = run_window(starts_at, duration_minutes, went_live_at, ended_at)
    margin = timedelta(minutes=settings.HASHTAG_MARGIN_MINUTES)
    return start - margin, end + margin


def reservation_lock_id(key: str) -> int:
    """A signed 64-bit number for the folded tag `key`: the id of its reservation lock."""
    return int.from_bytes(
        hashlib.sha256(b"jamhost-tag:" + key.encode()).digest()[:8], "big", signed=True
    )
