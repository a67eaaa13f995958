"""The replay page's transcript: a part at a time (see layout.py and parts.py).

The page carries the header, the player, the insights and one part (the first, or the
one a permalink points into); every other part of every section is a placeholder that
the browser swaps for the part when the reader gets near it (static/js/replay.js), and
that without JavaScript is a link to the page showing that part. A placeholder covers a
range of a section's parts: loading it brings one part and a placeholder for the rest,
so every part is loaded once, whatever order the reader scrolls in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from jamhost.transcripts.exports import export_render
from jamhost.transcripts.insights import Insights, insights_build
from jamhost.transcripts.layout import (
    Layout,
    Location,
    SectionShape,
    layout_cached,
)
from jamhost.transcripts.memo import Parsed
from jamhost.transcripts.parts import part_name, stored_html
from jamhost.transcripts.services import LoadedTranscript
from jamhost.transcripts.snapshot import parse_iso

BODY_MARKER = "<!-- transcript body -->"


@dataclass(frozen=True)
class SectionEntry:
    anchor: str
    label: str
    text: str
    at: float  # seconds after the player's start when the question was released
    answers: int
    replies: int


def section_index(layout: Layout) -> list[SectionEntry]:
    start = parse_iso(layout.start)
    entries = []
    for section in layout.sections:
        question = section.question
        released = question.get("released_at") if question else None
        entries.append(
            SectionEntry(
                anchor=section.anchor,
                label=section.label,
                text=question["text"] if question else "",
                at=(parse_iso(released) - start).total_seconds() if released else 0.0,
                answers=len(section.section.answers),
                replies=section.section.reply_count,
            )
        )
    return entries


def insights_cached(parsed: Parsed, *, seen_before: set[str]) -> Insights:
    key = ("insights", frozenset(seen_before))
    if key not in parsed.derived:
        parsed.derived[key] = insights_build(parsed.snapshot, seen_before=seen_before)
    return parsed.derived[key]


def export_cached(loaded: LoadedTranscript, *, fmt: str) -> str:
    if fmt == "json":
        return loaded.content
    key = ("export", fmt)
    if key not in loaded.parsed.derived:
        loaded.parsed.derived[key] = export_render(loaded.snapshot, fmt=fmt, content="")
    return loaded.parsed.derived[key]


# Rendering ---------------------------------------------------------------------------------


# The page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """A placeholder for parts first..last of a section, loading `first` or `last` first."""

    section: SectionShape
    first: int
    last: int
    from_end: bool = False

    @property
    def loads(self) -> int:
        return self.last if self.from_end else self.first


def _range_markup(slug: str, version: int, rng: Range) -> str:
    section = rng.section
    first_post, _ = section.part_span(rng.first)
    _, last_post = section.part_span(rng.last)
    src = reverse(
        "transcripts:part",
        kwargs={
            "slug": slug,
            "version": version,
            "anchor": section.anchor,
            "first": rng.first,
            "last": rng.last,
        },
    )
    if rng.from_end:
        src += "?from=end"
    page = reverse("transcripts:section", kwargs={"slug": slug, "anchor": section.anchor})
    href = f"{page}?part={rng.loads}#part-{section.anchor}-{rng.loads}"
    if last_post < first_post:  # a question nobody answered
        what = format_html("{} — show it", section.label)
    elif first_post == last_post:
        what = format_html("Post {} of {} — show it", first_post, section.label)
    else:
        what = format_html("Posts {}–{} of {} — show them", first_post, last_post, section.label)
    return str(
        format_html(
            '<a class="part-more" href="{}" data-src="{}" data-load="{}">{}</a>',
            href,
            src,
            part_name(section.anchor, rng.loads),
            what,
        )
    )


def range_load(*, slug: str, version: int, rng: Range, part: str) -> str:
    """What a placeholder is swapped for: the part it loads (`part`) and a placeholder for
    the rest of its range, on the side the reader has not reached yet."""
    if rng.first == rng.last:
        return part
    if rng.from_end:
        rest = Range(rng.section, rng.first, rng.last - 1, from_end=True)
        return _range_markup(slug, version, rest) + part
    rest = Range(rng.section, rng.first + 1, rng.last)
    return part + _range_markup(slug, version, rest)


@dataclass(frozen=True)
class SectionView:
    anchor: str
    question: dict[str, Any] | None
    content: SafeString


def sections_view(loaded: LoadedTranscript, *, slug: str, focus: Location) -> list[SectionView]:
    """Every section of the page: the focused part in full, placeholders for the rest.
    Sections above the focus load from their end, as a reader scrolling up meets them."""
    layout = layout_cached(loaded.parsed)
    version = loaded.transcript.version
    views = []
    above = True
    for section in layout.sections:
        count = len(section.parts)
        if section.anchor == focus.anchor:
            above = False
            parts = []
            shape = section.shape
            if focus.part > 1:
                parts.append(
                    _range_markup(slug, version, Range(shape, 1, focus.part - 1, from_end=True))
                )
            name = part_name(section.anchor, focus.part)
            parts.append(stored_html(loaded.parsed, loaded.transcript.pk, name))
            if focus.part < count:
                parts.append(_range_markup(slug, version, Range(shape, focus.part + 1, count)))
            content = "".join(parts)
        else:
            content = _range_markup(slug, version, Range(section.shape, 1, count, from_end=above))
        views.append(
            SectionView(
                anchor=section.anchor,
                question=section.question,
                content=mark_safe(content),  # escaped where it was written
            )
        )
    return views


def player_pages(layout: Layout) -> str:
    """The start of each player page (ms after the player's start), for data-pages."""
    return json.dumps(layout.page_starts, separators=(",", ":"))


def play_url(slug: str, version: int) -> str:
    return reverse("transcripts:play", kwargs={"slug": slug, "version": version, "page": 1})[
        : -len("1/")
    ]
