"""Compose rules: the text jamhost publishes, and where it fits.

A composed text is counted by each network rule that applies to its author in its jam
(core hook `text_rules`, decided by the networks app: X's whenever the jam runs on X,
each other network the post goes to; see jamhost/networks/text_rules.py). The limit that
binds is the one with the least room left: within it the post reaches every network, and
the compose box's counter marks it. A text over some limits but not all is posted and
goes to the others only; each network it is too long for shows it as not sent there,
with that network's reason (the networks app checks again before sending). A text over
every limit could go nowhere and is refused, naming the network with the most room. A
jam on no network at all holds posts to a plain local limit (LOCAL_LIMIT characters).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jamhost.core import hooks
from jamhost.core.text_rules import TextRule
from jamhost.jams.answers import answer_number
from jamhost.jams.hashtags import text_has_hashtag

LOCAL_LIMIT = 500
_LINE_ENDINGS = re.compile(r"\r\n|\r")


def local_length(text: str) -> int:
    """Characters (code points), a line break counting one however the browser sent it."""
    return len(_LINE_ENDINGS.sub("\n", text)) if "\r" in text else len(text)


def local_rule(hashtag: str) -> TextRule:
    """The rule of a jam on no network: LOCAL_LIMIT characters."""
    return TextRule(
        network="local",
        label="jamhost",
        limit=LOCAL_LIMIT,
        unit="characters",
        hashtag=hashtag,
        url_weight=0,
        counter=local_length,
    )


def text_rules_for(*, jam: Any, user: Any) -> tuple[TextRule, ...]:
    """The rules a post by `user` (None: nobody in particular) in `jam` is held to: the
    networks' (core hook), or the local rule when the jam is on no network."""
    return tuple(hooks.collect_text_rules(jam, user)) or (local_rule(jam.hashtag),)


def is_blank(body: str) -> bool:
    """True when nothing printable is left: empty, spaces, control or format characters."""
    return all(
        ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf", "Zs", "Zl", "Zp"} for ch in body
    )


@dataclass(frozen=True)
class Counted:
    """The text as it goes to one network (with the hashtag used there) and its length
    as that network counts it."""

    rule: TextRule
    text: str
    length: int

    @property
    def remaining(self) -> int:
        return self.rule.limit - self.length


@dataclass(frozen=True)
class Composed:
    text: str
    question_number: int | None
    counts: tuple[Counted, ...]

    @property
    def binding(self) -> Counted:
        """The count with the least room left: the limit that binds (to reach every
        network the post goes to, it must fit there)."""
        return min(self.counts, key=lambda counted: counted.remaining)

    @property
    def too_long_for(self) -> tuple[Counted, ...]:
        """The networks the text is too long for: it goes to the others, and each of these
        shows it as not sent there, with its reason."""
        return tuple(counted for counted in self.counts if counted.remaining < 0)

    @property
    def length(self) -> int:
        return self.binding.length

    @property
    def limit(self) -> int:
        return self.binding.rule.limit

    @property
    def remaining(self) -> int:
        return self.binding.remaining

    @property
    def fits(self) -> bool:
        """Whether the text can be posted: it fits at least one of its networks. A text
        too long for some (and not all) is posted, and goes to the others only."""
        return any(counted.remaining >= 0 for counted in self.counts)

    @property
    def fits_everywhere(self) -> bool:
        return self.remaining >= 0

    def refusal(self, what: str = "post") -> str:
        """Why the text cannot be posted: a character a network refuses (the one that
        binds first), or a length over every network's limit, named by the network with
        the most room (the least to cut); "" when it can be posted."""
        ordered = sorted(self.counts, key=lambda c: c.remaining)
        for counted in ordered:
            refused = counted.rule.characters_refused(counted.text, what)
            if refused:
                return refused
        if self.fits:
            return ""
        roomiest = ordered[-1]
        return roomiest.rule.too_long(roomiest.length, what)


def _build(body: str, hashtag: str, question_number: int | None) -> tuple[str, int | None]:
    written = answer_number(body)
    if written is not None:
        text, number = body, written
    elif question_number:
        text, number = f"A{question_number}: {body}", question_number
    else:
        text, number = body, None
    if hashtag and not text_has_hashtag(text, hashtag):
        text = f"{text} #{hashtag}"
    return text, number


def compose_text(
    *,
    body: str,
    hashtag: str,
    question_number: int | None,
    rules: Sequence[TextRule] | None = None,
) -> Composed:
    """Build the published text: "A{n}: " + body + " #tag" (tag added only if missing),
    counted by each of `rules` (the local rule when none are given) on the text as it
    goes there (a network with a hashtag of its own gets that one).

    A body that already starts with an answer prefix keeps it and names its question.
    """
    body = body.strip()
    text, number = _build(body, hashtag, question_number)
    counts = []
    for rule in rules or (local_rule(hashtag),):
        there = text if rule.hashtag in ("", hashtag) else _build(body, rule.hashtag, number)[0]
        counts.append(Counted(rule=rule, text=there, length=rule.count(there)))
    return Composed(text=text, question_number=number, counts=tuple(counts))


def characters_refused(rules: Sequence[TextRule], text: str, what: str = "post") -> str:
    """The first rule's sentence about a character (or size) its network refuses in
    `text` whatever its length, or ""."""
    for rule in rules:
        refused = rule.characters_refused(text, what)
        if refused:
            return refused
    return ""
