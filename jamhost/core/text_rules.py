"""A network's text rule: how long a post may be there, counted as that network counts,
and what it refuses. The networks app makes one per network a post goes to (core hook
`text_rules`); posts judges a composed text against every rule that applies and the
browser's counter shows them (static/js/compose-count.js). No network is named here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# What a network refuses besides length (X: characters it will not take; Bluesky: bytes),
# as a sentence a person can act on for `text` written as `what` ("post", "reply"), or "".
Refusal = Callable[[str, str], str]

GENERIC_TOO_LONG = (
    "Your {what} is {length} {unit} as {label} counts them, over its limit of {limit}. "
    "Shorten it by {over}."
)


def _nothing_refused(text: str, what: str) -> str:
    return ""


@dataclass(frozen=True)
class TextRule:
    """One network's limit. Equal rules (same network, label, limit, unit, hashtag, link
    weight) are interchangeable: the counting functions take no part in comparison, so a
    rule can key a cache."""

    network: str  # "x", "bluesky", "mastodon", "local"
    label: str  # for people: "X", "Bluesky", "Mastodon (mastodon.social)"
    limit: int
    unit: str  # "characters" or "graphemes", for people
    hashtag: str  # the tag the post carries there
    url_weight: int  # what a link counts there; 0: every character of it (the counter's)
    counter: Callable[[str], int] = field(compare=False, repr=False)
    refuses: Refusal = field(default=_nothing_refused, compare=False, repr=False)
    # The over-limit sentence: {what} {length} {unit} {label} {limit} {over} filled in.
    too_long_wording: str = field(default=GENERIC_TOO_LONG, compare=False, repr=False)
    # The network refuses a text the same account sent it before: the compose box warns
    # (posts.selectors.post_texts_sent, keyed by `network` in post.elsewhere).
    refuses_repeats: bool = False

    def count(self, text: str) -> int:
        """The length of `text` as the network counts it."""
        return self.counter(text)

    def characters_refused(self, text: str, what: str = "post") -> str:
        """Why the network will not take `text` whatever its length (a character it
        refuses, too many bytes), or ""."""
        return self.refuses(text, what)

    def too_long(self, length: int, what: str = "post") -> str:
        """The sentence for a text of `length` (as counted here) over the limit, or ""."""
        if length <= self.limit:
            return ""
        return self.too_long_wording.format(
            what=what,
            length=length,
            unit=self.unit,
            label=self.label,
            limit=self.limit,
            over=length - self.limit,
        )

    def refused(self, text: str, what: str = "post") -> str:
        """A sentence a person can act on when the network would not take `text` (a
        character it refuses, over its limit), else ""."""
        return self.characters_refused(text, what) or self.too_long(self.count(text), what)
