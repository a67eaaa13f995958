"""Search inside one jam's transcript: by words, by author, by question.

It reads the snapshot a reader sees (the version served, posts hidden or removed are not
in it), so a result is always a post the replay can show. Matching ignores case and
accents ("cafe" finds "Café"); every word must be in the post, and "a phrase in quotes"
must be there as written. Results come in seq order (as the posts arrived).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from jamhost.transcripts.memo import Parsed

MAX_TERMS = 12
_TERMS = re.compile(r'"([^"]+)"|(\S+)')


@dataclass(frozen=True)
class JamSearch:
    words: str = ""
    author: str = ""
    question: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.author_key or self.question is not None)

    @property
    def terms(self) -> list[str]:
        found = [fold(a or b)[0] for a, b in _TERMS.findall(self.words)]
        return [t for t in found if t.strip()][:MAX_TERMS]

    @property
    def author_key(self) -> str:
        return fold(self.author.strip().lstrip("@"))[0]


@dataclass(frozen=True)
class Hit:
    post: dict[str, Any]
    text: SafeString  # the post's text, escaped, the words found marked


def fold(text: str) -> tuple[str, list[int]]:
    """`text` without case and accents, and for each of its characters the index of the
    character of `text` it came from (folding may turn one character into two: ß, ﬁ)."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        decomposed = unicodedata.normalize("NFKD", char)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        out.append(folded)
        origin += [index] * len(folded)
    return "".join(out), origin


@dataclass(frozen=True)
class _Entry:
    post: dict[str, Any]
    text: str
    origin: list[int]
    author: str


def _index(parsed: Parsed) -> list[_Entry]:
    key = ("search-index",)
    if key not in parsed.derived:
        entries = []
        for post in parsed.snapshot["posts"]:
            text, origin = fold(post["text"])
            who = post["author"]
            author = fold(f"{who['handle']}\n{who['name']}")[0]
            entries.append(_Entry(post=post, text=text, origin=origin, author=author))
        parsed.derived[key] = entries
    return parsed.derived[key]


def transcript_search(parsed: Parsed, *, search: JamSearch) -> list[Hit]:
    """The posts that match every part of `search` given, in seq order; none for an
    empty search."""
    if search.is_empty:
        return []
    terms = search.terms
    author = search.author_key
    hits = []
    for entry in _index(parsed):
        post = entry.post
        if search.question is not None and post["question"] != search.question:
            continue
        if author and author not in entry.author:
            continue
        if all(term in entry.text for term in terms):
            hits.append(Hit(post=post, text=_marked(post["text"], entry, terms)))
    return hits


def _marked(text: str, entry: _Entry, terms: list[str]) -> SafeString:
    spans: list[tuple[int, int]] = []
    for term in terms:
        at = entry.text.find(term)
        while at >= 0:
            spans.append((entry.origin[at], entry.origin[at + len(term) - 1] + 1))
            at = entry.text.find(term, at + len(term))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    at = 0
    for start, end in merged:
        out.append(escape(text[at:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        at = end
    out.append(escape(text[at:]))
    return mark_safe("".join(out))  # every piece escaped above
