"""Link previews: the Open Graph and X card metadata of jam pages, replays and permalinks,
and the image they point to, drawn here with Pillow (no network, no browser).

The image is 1200 by 630 pixels (what X's summary_large_image, Bluesky and Mastodon show): the
hashtag, the question or post in large type, who wrote it, and the jam's title, host and
date. The font is Noto Sans, installed from PyPI with jamhost (fontpkg-noto-sans), so
`make run` draws the same image as production. Characters the font has no glyph for
(emoji, CJK) are left out rather than drawn as boxes; a text that would lose much is
replaced by the jam's title. Images are kept in the cache, keyed by the transcript
version (or the jam's fields) and what they show, so each is drawn once per version.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import fontpkg
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

from jamhost.jams.models import Jam, JamStatus
from jamhost.transcripts.selectors import TranscriptCounts
from jamhost.transcripts.snapshot import Snapshot, parse_iso

WIDTH, HEIGHT = 1200, 630
MARGIN = 72
CARD_VERSION = "1"  # change with the drawing below
CACHE_SECONDS = 7 * 24 * 3600
BACKGROUND = "#17172a"
PANEL = "#22223a"
ACCENT = "#9c94ff"
TEXT = "#f4f4fb"
MUTED = "#b4b4c8"
MAX_LOST = 0.3  # more of a text than this missing from the font: show the title instead


@dataclass(frozen=True)
class Card:
    """What a page says about itself to link previews."""

    title: str
    description: str
    url: str
    image_url: str
    image_alt: str
    kind: str = "website"  # og:type


@dataclass(frozen=True)
class CardImage:
    """What the image shows."""

    hashtag: str
    eyebrow: str  # small, above the text: "Q3", "Transcript", "Live Tweet Jam"
    text: str  # large: the question, the post or the title
    byline: str  # under the text: who wrote it
    footer: str  # at the bottom: title, host, date
    fallback: str  # shown instead of `text` when the font cannot draw most of it

    @property
    def digest(self) -> str:
        fields = "\x1f".join(asdict(self).values())
        return hashlib.sha256(f"{CARD_VERSION}\x1e{fields}".encode()).hexdigest()[:32]


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


@functools.cache
def _font_path() -> Path:
    return Path(fontpkg.path("Noto Sans"))


@functools.cache
def _coverage() -> frozenset[int]:
    font = TTFont(str(_font_path()), lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


@functools.lru_cache(maxsize=16)
def _font(size: int, weight: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(str(_font_path()), size)
    axes = {axis["name"]: axis for axis in font.get_variation_axes()}
    font.set_variation_by_axes(
        [
            float(weight if name == b"Weight" else axis["default"] or 0)
            for name, axis in axes.items()
        ]
    )
    return font


def drawable(text: str) -> tuple[str, float]:
    """The text without the characters the font cannot draw (and without control
    characters), and the share of visible characters that were left out."""
    covered = _coverage()
    kept = []
    lost = visible = 0
    for char in " ".join(text.split()):
        if char.isspace():
            kept.append(" ")
            continue
        visible += 1
        if ord(char) in covered and char.isprintable():
            kept.append(char)
        else:
            lost += 1
    return " ".join("".join(kept).split()), (lost / visible if visible else 0.0)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        while font.getlength(word) > width:  # a word wider than the card: cut it
            cut = len(word)
            while cut > 1 and font.getlength(word[:cut]) > width:
                cut -= 1
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{line} {word}".strip()
        if font.getlength(candidate) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _fit(text: str, width: int, height: int) -> tuple[ImageFont.FreeTypeFont, list[str], int]:
    """The largest size at which `text` fits the box, cut with an ellipsis at the
    smallest size if it never does."""
    for size in (64, 56, 48, 42, 36, 32):
        font = _font(size, 700)
        step = int(size * 1.25)
        lines = _wrap(text, font, width)
        if len(lines) * step <= height:
            return font, lines, step
    rows = max(1, height // step)
    if len(lines) > rows:
        lines = lines[:rows]
        last = lines[-1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return font, lines, step


def _one_line(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def card_draw(image: CardImage) -> bytes:
    """The PNG for `image` (drawn now; see card_png for the cached one)."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 14, HEIGHT), fill=ACCENT)
    inner = WIDTH - 2 * MARGIN
    brand = _font(30, 800)
    draw.text((MARGIN, 48), "jam", font=brand, fill=TEXT)
    draw.text((MARGIN + brand.getlength("jam"), 48), "host", font=brand, fill=ACCENT)
    tag, lost = drawable(f"#{image.hashtag}")
    if tag and not lost:  # a hashtag missing a letter would be another hashtag
        tag_font = _font(34, 700)
        tag = _one_line(tag, tag_font, inner // 2)
        draw.text((WIDTH - MARGIN - tag_font.getlength(tag), 46), tag, font=tag_font, fill=ACCENT)

    top = 130
    eyebrow, _ = drawable(image.eyebrow)
    if eyebrow:
        small = _font(28, 700)
        box = draw.textbbox((MARGIN, top), eyebrow, font=small)
        draw.rounded_rectangle(
            (box[0] - 14, box[1] - 8, box[2] + 14, box[3] + 8), radius=12, fill=PANEL
        )
        draw.text((MARGIN, top), eyebrow, font=small, fill=ACCENT)
        top += 70
    text, lost = drawable(image.text)
    if not text or lost > MAX_LOST:
        text, _ = drawable(image.fallback)
    byline, _ = drawable(image.byline)
    footer, _ = drawable(image.footer)
    bottom = HEIGHT - 70 - (50 if byline else 0)
    font, lines, step = _fit(text, inner, bottom - top)
    for line in lines:
        draw.text((MARGIN, top), line, font=font, fill=TEXT)
        top += step
    if byline:
        by_font = _font(30, 500)
        draw.text(
            (MARGIN, HEIGHT - 120), _one_line(byline, by_font, inner), font=by_font, fill=MUTED
        )
    foot_font = _font(26, 400)
    draw.line((MARGIN, HEIGHT - 72, WIDTH - MARGIN, HEIGHT - 72), fill=PANEL, width=2)
    draw.text(
        (MARGIN, HEIGHT - 58), _one_line(footer, foot_font, inner), font=foot_font, fill=MUTED
    )
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def card_png(image: CardImage, *, scope: str) -> bytes:
    """The PNG for `image`, drawn once and then kept in the cache. `scope` names what it
    belongs to (a jam and its transcript version), so a new version draws its own."""
    key = f"card:{scope}:{image.digest}"
    png = cache.get(key)
    if png is None:
        png = card_draw(image)
        cache.set(key, png, CACHE_SECONDS)
    return bytes(png)


# What each page says ------------------------------------------------------------------------


def _byline(jam: Jam) -> str:
    return f"{jam.title} · hosted by @{jam.host.get_username()} · {day(jam.starts_at)}"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def jam_card(jam: Jam) -> tuple[Card, CardImage]:
    """The jam's page (and its live room): what it is, who hosts it, when."""
    when = f"{jam.starts_at:%Y-%m-%d %H:%M} UTC"
    state = {
        JamStatus.LIVE: "Live now",
        JamStatus.ENDED: "Transcript",
        JamStatus.ARCHIVED: "Transcript",
    }.get(JamStatus(jam.status), f"Tweet Jam · {when}")
    current = jam.current_question if jam.status == JamStatus.LIVE else None
    text = f"Q{current.number}: {current.text}" if current else jam.title
    description = (
        f"#{jam.hashtag} · a Tweet Jam hosted by @{jam.host.get_username()} on {when}"
        f" ({jam.duration_minutes} minutes)."
    )
    if jam.description:
        description += " " + _clip(jam.description, 200)
    image = CardImage(
        hashtag=jam.hashtag,
        eyebrow=state,
        text=text,
        byline="" if current is None else f"{jam.title}",
        footer=_byline(jam),
        fallback=f"#{jam.hashtag}",
    )
    path = reverse("transcripts:jam_card", kwargs={"slug": jam.slug})
    card = Card(
        title=f"{jam.title} (#{jam.hashtag})",
        description=description,
        url=absolute(jam.get_absolute_url()),
        image_url=absolute(f"{path}?v={image.digest[:12]}"),
        image_alt=f"{jam.title}, #{jam.hashtag}, hosted by @{jam.host.get_username()}",
    )
    return card, image


def replay_card(jam: Jam, *, version: int | None = None) -> Card:
    """The replay's metadata: it is read before the snapshot is (the page streams), so it
    says what the jam row knows; the image says what the transcript holds."""
    path = reverse("transcripts:replay_card", kwargs={"slug": jam.slug})
    return Card(
        title=f"{jam.title} (#{jam.hashtag}): the transcript",
        description=(
            f"Replay #{jam.hashtag}, hosted by @{jam.host.get_username()} on "
            f"{day(jam.starts_at)}: every question and answer, at the pace they were posted."
        ),
        url=absolute(reverse("transcripts:replay", kwargs={"slug": jam.slug})),
        image_url=absolute(path + (f"?v={version}" if version else "")),
        image_alt=f"Transcript of {jam.title}, #{jam.hashtag}",
        kind="article",
    )


def replay_image(jam: Jam, counts: TranscriptCounts) -> CardImage:
    return CardImage(
        hashtag=jam.hashtag,
        eyebrow="Transcript",
        text=jam.title,
        byline=(
            f"{counts.posts:,} post{'s' if counts.posts != 1 else ''} by {counts.people:,} "
            f"{'person' if counts.people == 1 else 'people'} · {counts.questions} "
            f"question{'s' if counts.questions != 1 else ''}"
        ),
        footer=_byline(jam),
        fallback=f"#{jam.hashtag}",
    )


def question_card(jam: Jam, question: dict, *, version: int) -> tuple[Card, CardImage]:
    number = question["number"]
    anchor = f"q{number}"
    url = reverse("transcripts:section", kwargs={"slug": jam.slug, "anchor": anchor})
    image_path = reverse("transcripts:section_card", kwargs={"slug": jam.slug, "anchor": anchor})
    image = CardImage(
        hashtag=jam.hashtag,
        eyebrow=f"Q{number}",
        text=question["text"],
        byline=f"asked by @{jam.host.get_username()} in #{jam.hashtag}",
        footer=_byline(jam),
        fallback=jam.title,
    )
    card = Card(
        title=f"Q{number}: {_clip(question['text'], 120)} (#{jam.hashtag})",
        description=(
            f"Question {number} of {jam.title}, hosted by @{jam.host.get_username()} on "
            f"{day(jam.starts_at)}. Read the answers, or replay them as they came in."
        ),
        url=absolute(url),
        image_url=absolute(f"{image_path}?v={version}"),
        image_alt=f"Q{number} of #{jam.hashtag}: {_clip(question['text'], 300)}",
        kind="article",
    )
    return card, image


def post_card(jam: Jam, post: dict, snapshot: Snapshot, *, version: int) -> tuple[Card, CardImage]:
    author = post["author"]
    who = f"@{author['handle']}" + (f" ({author['name']})" if author["name"] else "")
    if author["role"] != "participant":
        who += f", {author['role']}"
    clock = f"{parse_iso(post['time']):%H:%M} UTC"
    number = post["question"]
    question = next((q for q in snapshot["questions"] if q["number"] == number), None)
    if question is None:
        eyebrow = "A post"
    elif post["kind"] == "question":
        eyebrow = f"Q{number}"
    else:
        eyebrow = f"A{number} · Q{number}: {_clip(question['text'], 60)}"
    kwargs = {"slug": jam.slug, "seq": post["seq"]}
    image = CardImage(
        hashtag=jam.hashtag,
        eyebrow=eyebrow,
        text=post["text"],
        byline=f"{who} · {clock}",
        footer=_byline(jam),
        fallback=f"A post by @{author['handle']} in #{jam.hashtag}",
    )
    card = Card(
        title=f"@{author['handle']} in #{jam.hashtag}: {_clip(post['text'], 90)}",
        description=(
            (f"Answering Q{number}: {_clip(question['text'], 140)} · " if question else "")
            + f"{jam.title}, hosted by @{jam.host.get_username()} on {day(jam.starts_at)}."
        ),
        url=absolute(reverse("transcripts:post", kwargs=kwargs)),
        image_url=absolute(reverse("transcripts:post_card", kwargs=kwargs) + f"?v={version}"),
        image_alt=f"{who} in #{jam.hashtag}: {_clip(post['text'], 300)}",
        kind="article",
    )
    return card, image
