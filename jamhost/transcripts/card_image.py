"""The image of a link preview: 1200 by 630 pixels (what X's summary_large_image,
Bluesky and Mastodon show), drawn with Pillow, no network and no browser: the hashtag, the
question or post in large type, who wrote it, and the jam's title, host and date.

The font is Noto Sans, installed from PyPI with jamhost (fontpkg-noto-sans), so `make run`
draws the same image as production. Characters the font has no glyph for (emoji, CJK) are
left out rather than drawn as boxes; a text that would lose much is replaced by a
fallback. Images are kept in the cache under what they belong to (a jam and its
transcript version) and what they show, so each is drawn once per version.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import asdict, dataclass
from pathlib import Path

import fontpkg
from django.core.cache import cache
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw, ImageFont

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
