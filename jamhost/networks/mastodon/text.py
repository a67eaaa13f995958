"""Status text as Mastodon means it: the API sends a status's `content` as HTML (paragraphs,
line breaks, mention and hashtag links, long links cut with invisible spans); jamhost keeps
the plain text its author wrote. And Mastodon's length rule: graphemes, each link counting
23, a mention of a remote account counting only its local part."""

from __future__ import annotations

from functools import partial
from html.parser import HTMLParser

import regex
from twitter_text import extract_urls_with_indices

from jamhost.core.text_rules import TextRule
from jamhost.networks.remote import TextRules

DEFAULT_LIMIT = 500
DEFAULT_URL_WEIGHT = 23
# Account::MENTION_RE in Mastodon (app/models/account.rb): @user or @user@domain.
_MENTION = regex.compile(
    r"(?<![=/\w])@(([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w+)?)", regex.IGNORECASE
)
_DROPPED = {"script", "style", "template", "iframe", "object", "noscript", "svg", "math"}
_BLOCKS = {"p", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "div"}
_SAFE_SCHEMES = ("http://", "https://")


class _Text(HTMLParser):
    """Collects the visible text; everything else (attributes, unknown tags, scripts) goes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.current: list[str] = []
        self.dropped = 0  # inside <script> and the like
        self.link: tuple[str, list[str], bool] | None = None  # href, its text, shortened

    def _write(self, piece: str) -> None:
        if self.dropped:
            return
        if self.link is not None:
            self.link[1].append(piece)
        else:
            self.current.append(piece)

    def _close_block(self) -> None:
        self._close_link()
        text = "".join(self.current).strip("\n")
        if text.strip():
            self.blocks.append(text)
        self.current = []

    def _close_link(self) -> None:
        if self.link is None:
            return
        href, pieces, shortened = self.link
        self.link = None
        visible = "".join(pieces)
        self._write(href if shortened and href.lower().startswith(_SAFE_SCHEMES) else visible)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.dropped += 1
        elif self.dropped:
            return
        elif tag == "br":
            self._write("\n")
        elif tag in _BLOCKS:
            self._close_block()
        elif tag == "li":
            self._write("\n")
        elif tag == "a":
            self._close_link()
            self.link = (dict(attrs).get("href") or "", [], False)
        elif tag == "span" and self.link is not None:
            classes = (dict(attrs).get("class") or "").split()
            if "invisible" in classes or "ellipsis" in classes:
                self.link = (self.link[0], self.link[1], True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _DROPPED:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropped = max(self.dropped - 1, 0)
        elif self.dropped:
            return
        elif tag in _BLOCKS:
            self._close_block()
        elif tag == "a":
            self._close_link()

    def handle_data(self, data: str) -> None:
        self._write(data)

    def text(self) -> str:
        self.close()
        self._close_block()
        return "\n\n".join(self.blocks)


def html_to_text(content: str) -> str:
    """A status's `content` as the plain text its author wrote: paragraphs become blank
    lines, <br> a newline, a link its visible text (a link Mastodon shortened with
    invisible spans, its http(s) address), entities unescaped, every other tag, attribute,
    script and style dropped. Never raises on malformed HTML."""
    parser = _Text()
    parser.feed(content or "")
    return parser.text()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        href = found.get("href") or ""
        if tag == "a" and "mention" not in classes and href.lower().startswith(_SAFE_SCHEMES):
            self.links.append(href)


def html_links(content: str) -> list[str]:
    """The http(s) links in a status's `content`, in order, once each; mention and hashtag
    links left out."""
    parser = _Links()
    parser.feed(content or "")
    parser.close()
    return list(dict.fromkeys(parser.links))


def mastodon_length(text: str, url_weight: int = DEFAULT_URL_WEIGHT) -> int:
    """How long Mastodon counts `text` (StatusLengthValidator): graphemes, each http(s)
    link as `url_weight`, `@user@domain` as `@user`."""
    spans: list[tuple[int, int, str]] = []
    for found in extract_urls_with_indices(text, extract_urls_without_protocol=False):
        start, end = found["indices"]
        spans.append((start, end, "x" * url_weight))
    for mention in _MENTION.finditer(text):
        start, end = mention.span()
        if not any(s < end and start < e for s, e, _ in spans):
            spans.append((start, end, "@" + mention.group(2)))
    counted, last = [], 0
    for start, end, replacement in sorted(spans):
        counted += [text[last:start], replacement]
        last = end
    counted.append(text[last:])
    return len(regex.findall(r"\X", "".join(counted)))


def rules_for(max_characters: int, url_weight: int) -> TextRules:
    """The TextRules of an instance that allows `max_characters` per status."""
    return TextRules(limit=max_characters, counts=f"characters, links count {url_weight}")


def mastodon_rule(*, label: str, hashtag: str, max_characters: int, url_weight: int) -> TextRule:
    """An instance's rule (`label` names it: "Mastodon (mastodon.social)") for a status
    carrying `hashtag` there."""
    return TextRule(
        network="mastodon",
        label=label,
        limit=max_characters,
        unit="characters",
        hashtag=hashtag,
        url_weight=url_weight,
        counter=partial(mastodon_length, url_weight=url_weight),
    )
