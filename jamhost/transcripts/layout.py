"""How the replay lays a transcript out: its sections cut into parts that load one at a
time, and the player's pages. A pure function of the snapshot, so a version's layout never
changes and its rendered parts can be stored and served as they are.

The reading order of a section: its question's post, then the featured and panelist
answers, then the community's, each answer followed by its replies. A section is cut
into parts of PART_POSTS posts in that order (a part may end inside a side conversation;
the next part goes on with it). Every post of the transcript is in exactly one part.

The player plays posts as they arrived, in seq order, a page of PAGE_POSTS at a time;
every post is on exactly one page. A page's start is the time of its first post, in
milliseconds after the player's start, so the player knows which page a moment is on.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from jamhost.transcripts.memo import Parsed
from jamhost.transcripts.snapshot import Section, Snapshot, parse_iso, snapshot_sections

PART_POSTS = 50
PAGE_POSTS = 100


@dataclass(frozen=True)
class Item:
    """A post in a section's reading order."""

    post: dict[str, Any]
    group: str  # "question", "lead" or "community"
    thread: int | None = None  # for a reply: the seq of the answer it hangs under


@dataclass(frozen=True)
class SectionShape:
    """What a placeholder needs to know of a section: enough to be stored apart from the
    snapshot (see replay.SHAPES), so a part is served without reading the snapshot."""

    anchor: str
    label: str
    items: int
    parts: int

    def part_span(self, number: int) -> tuple[int, int]:
        """The positions (1-based, in reading order) of the part's first and last post."""
        start = (number - 1) * PART_POSTS
        return start + 1, min(start + PART_POSTS, self.items)


@dataclass
class SectionLayout:
    section: Section
    items: list[Item]
    parts: list[tuple[int, int]]  # [start, end) into items, one per part; part n is parts[n-1]
    group_starts: dict[str, int] = field(default_factory=dict)
    positions: dict[int, int] = field(default_factory=dict)  # seq -> index in items

    @property
    def anchor(self) -> str:
        return self.section.anchor

    @property
    def label(self) -> str:
        return self.section.label

    @property
    def question(self) -> dict[str, Any] | None:
        return self.section.question

    def part_items(self, number: int) -> list[Item]:
        start, end = self.parts[number - 1]
        return self.items[start:end]

    @property
    def shape(self) -> SectionShape:
        return SectionShape(self.anchor, self.label, len(self.items), len(self.parts))


@dataclass(frozen=True)
class Location:
    anchor: str
    part: int


@dataclass
class Layout:
    sections: list[SectionLayout]
    where: dict[int, Location]  # seq -> the part it is in
    start: str  # the player's start (ISO 8601), as player_bounds gives it
    pages: list[tuple[int, int]]  # [start, end) into snapshot["posts"], seq order
    page_starts: list[int]  # ms after the player's start of each page's first post
    post_at: dict[int, int]  # seq -> ms after the player's start
    by_seq: dict[int, dict[str, Any]] = field(default_factory=dict)

    def post(self, seq: int) -> dict[str, Any]:
        return self.by_seq[seq]

    def section(self, anchor: str) -> SectionLayout | None:
        return next((s for s in self.sections if s.anchor == anchor), None)

    def page_of(self, at_ms: int) -> int:
        """The page (1-based) that holds the moment `at_ms`."""
        return max(1, bisect.bisect_right(self.page_starts, at_ms))


def _section_layout(section: Section) -> SectionLayout:
    items: list[Item] = []
    starts: dict[str, int] = {}
    if section.question_post:
        items.append(Item(section.question_post, "question"))
    for group, posts in (("lead", section.lead), ("community", section.community)):
        if posts:
            starts[group] = len(items)
        for post in posts:
            items.append(Item(post, group))
            items += [Item(reply, group, post["seq"]) for reply in section.thread(post)]
    parts = [(at, min(at + PART_POSTS, len(items))) for at in range(0, len(items), PART_POSTS)]
    return SectionLayout(
        section=section,
        items=items,
        parts=parts or [(0, 0)],
        group_starts=starts,
        positions={item.post["seq"]: at for at, item in enumerate(items)},
    )


def transcript_layout(snapshot: Snapshot, *, start: str) -> Layout:
    """The layout of a snapshot; `start` is the player's start (player_bounds)."""
    sections = [_section_layout(section) for section in snapshot_sections(snapshot)]
    where = {}
    for layout in sections:
        for number in range(1, len(layout.parts) + 1):
            for item in layout.part_items(number):
                where[item.post["seq"]] = Location(layout.anchor, number)
    posts = snapshot["posts"]
    origin = parse_iso(start)
    post_at = {
        post["seq"]: int((parse_iso(post["time"]) - origin).total_seconds() * 1000)
        for post in posts
    }
    pages = [(at, min(at + PAGE_POSTS, len(posts))) for at in range(0, len(posts), PAGE_POSTS)]
    return Layout(
        sections=sections,
        where=where,
        start=start,
        pages=pages,
        page_starts=[post_at[posts[first]["seq"]] for first, _ in pages],
        post_at=post_at,
        by_seq={post["seq"]: post for post in posts},
    )


@dataclass(frozen=True)
class PlayerBounds:
    start: str
    seconds: float


def player_bounds(snapshot: Snapshot) -> PlayerBounds:
    jam = snapshot["jam"]
    posts = snapshot["posts"]
    start = parse_iso(jam["went_live_at"] or jam["starts_at"])
    end = parse_iso(jam["ended_at"]) if jam["ended_at"] else start
    if posts:
        start = min(start, parse_iso(posts[0]["time"]))
        end = max(end, parse_iso(posts[-1]["time"]))
    return PlayerBounds(start=start.isoformat(), seconds=max(1.0, (end - start).total_seconds()))


def layout_cached(parsed: Parsed) -> Layout:
    key = ("layout",)
    if key not in parsed.derived:
        start = player_bounds(parsed.snapshot).start
        parsed.derived[key] = transcript_layout(parsed.snapshot, start=start)
    return parsed.derived[key]
