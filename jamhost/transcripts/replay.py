"""The replay page's transcript, rendered with the live room's post fragment, a part at a
time (see layout.py).

The page carries the header, the player, the insights and one part (the first, or the
one a permalink points into); every other part of every section is a placeholder that
the browser swaps for the part when the reader gets near it (static/js/replay.js), and
that without JavaScript is a link to the page showing that part. A placeholder covers a
range of a section's parts: loading it brings one part and a placeholder for the rest,
so every part is loaded once, whatever order the reader scrolls in.

Posts are rebuilt from the snapshot as unsaved Post objects (no queries) so that
templates/posts/_post.html shows them exactly as the live room did. Each version's parts
and player pages are rendered once by the render_transcript task and stored
(TranscriptPart); until then, or for other templates, a request renders the part it needs.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.template.loader import get_template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from jamhost.jams.models import Question
from jamhost.live.render import VIEWER
from jamhost.posts.models import Post, PostStatus
from jamhost.transcripts.exports import export_render
from jamhost.transcripts.insights import Insights, insights_build
from jamhost.transcripts.layout import (
    Layout,
    Location,
    SectionLayout,
    SectionShape,
    transcript_layout,
)
from jamhost.transcripts.memo import Parsed
from jamhost.transcripts.models import Transcript, TranscriptPart
from jamhost.transcripts.services import LoadedTranscript
from jamhost.transcripts.snapshot import Snapshot, parse_iso

BODY_MARKER = "<!-- transcript body -->"
RENDER_VERSION = "2"  # change with the markup written in this module
PLAY = "play"
SHAPES = "shapes"
SECTION_TEMPLATES = (
    "posts/_post.html",
    "networks/_post_network.html",
    "audience/_post_audience.html",
)
GROUP_HEADINGS = {"lead": "Panelists and featured answers", "community": "Community"}


@dataclass(frozen=True)
class SectionEntry:
    anchor: str
    label: str
    text: str
    at: float  # seconds after the player's start when the question was released
    answers: int
    replies: int


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


def post_from_snapshot(entry: dict[str, Any], questions: dict[int, Question]) -> Post:
    """An unsaved Post carrying what the fragment shows. Its pk is the seq: replay
    anchors (#post-<seq>) stay stable across transcript versions."""
    author = entry["author"]
    return Post(
        pk=entry["seq"],
        seq=entry["seq"],
        rev=entry["seq"],
        kind=entry["kind"],
        question=questions.get(entry["question"]) if entry["question"] is not None else None,
        author_key=author["key"],
        author_handle=author["handle"],
        author_name=author["name"],
        author_avatar_url=author["avatar_url"],
        author_role=author["role"],
        body=entry["body"],
        text=entry["text"],
        source=entry["source"],
        status=PostStatus.VISIBLE,
        pinned=entry["pinned"],
        featured=entry["featured"],
        created_at=parse_iso(entry["time"]),
        # Seqs, like pk: a reply links to its parent's #post-<seq> anchor.
        reply_to_id=entry.get("reply_to"),
        upvotes=int((entry.get("metrics") or {}).get("upvotes") or 0),
    )


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


@functools.cache
def templates_fingerprint() -> str:
    """What the rendered parts depend on besides the snapshot: the templates' text (and
    this module's own markup, through RENDER_VERSION, and the layout's part sizes)."""
    from jamhost.transcripts.layout import PAGE_POSTS, PART_POSTS

    digest = hashlib.sha256(f"{RENDER_VERSION}:{PART_POSTS}:{PAGE_POSTS}".encode())
    for name in SECTION_TEMPLATES:
        digest.update(get_template(name).template.source.encode())  # type: ignore[attr-defined]
    return digest.hexdigest()


# Rendering ---------------------------------------------------------------------------------


def _posts_render(snapshot: Snapshot, entries: list[dict[str, Any]]) -> dict[int, str]:
    questions = {
        q["number"]: Question(number=q["number"], text=q["text"]) for q in snapshot["questions"]
    }
    template = get_template("posts/_post.html")
    slug = snapshot["jam"]["slug"]
    return {
        entry["seq"]: template.render(
            {
                "post": post_from_snapshot(entry, questions),
                "audience": VIEWER,
                "permalink": post_permalink(slug, entry["seq"]),
            }
        )
        for entry in entries
    }


def post_permalink(slug: str, seq: int) -> str:
    return reverse("transcripts:post", kwargs={"slug": slug, "seq": seq})


def part_name(anchor: str, number: int) -> str:
    return f"{anchor}/{number}"


def page_name(number: int) -> str:
    return f"{PLAY}/{number}"


def _part_markup(section: SectionLayout, number: int, html_of: dict[int, str]) -> str:
    """A part of a section: its posts in reading order, the group headings where a group
    starts, and each side conversation in a block of replies under the post it answers."""
    start, _ = section.parts[number - 1]
    anchor = section.anchor
    out = [f'<div class="part" id="part-{anchor}-{number}" data-part="{anchor}/{number}">']
    thread: int | None = None
    for offset, item in enumerate(section.part_items(number)):
        position = start + offset
        if item.thread != thread and thread is not None:
            out.append("</div>")
        if item.thread is None and section.group_starts.get(item.group) == position:
            out.append(f'<h3 class="answers-head">{GROUP_HEADINGS[item.group]}</h3>')
        if item.thread is not None and item.thread != thread:
            continued = offset == 0 and section.items[position - 1].thread == item.thread
            out.append(_replies_open(section, item.thread, continued=continued))
        thread = item.thread
        out.append(html_of[item.post["seq"]])
    if thread is not None:
        out.append("</div>")
    if number == 1 and not section.section.answers:
        out.append('<p class="empty">No answers.</p>')
    out.append("</div>")
    return "".join(out)


def _replies_open(section: SectionLayout, root: int, *, continued: bool) -> str:
    answer = section.items[section.positions[root]].post
    count = len(section.section.thread(answer))
    handle = answer["author"]["handle"]
    if continued:
        head = format_html("Replies to @{}, continued", handle)
    else:
        head = format_html("{} repl{} to @{}", count, "y" if count == 1 else "ies", handle)
    return str(
        format_html(
            '<div class="replies" role="group" aria-label="Replies to @{}" data-thread="{}">'
            '<p class="replies-head">↪ {}</p>',
            handle,
            root,
            head,
        )
    )


def _page_markup(layout: Layout, snapshot: Snapshot, number: int, html_of: dict[int, str]) -> str:
    first, end = layout.pages[number - 1]
    return "".join(html_of[post["seq"]] for post in snapshot["posts"][first:end])


def rendering_all(snapshot: Snapshot, layout: Layout) -> dict[str, str]:
    """Every part and player page of a version, by name: each post rendered once."""
    html_of = _posts_render(snapshot, snapshot["posts"])
    out = {}
    for section in layout.sections:
        for number in range(1, len(section.parts) + 1):
            out[part_name(section.anchor, number)] = _part_markup(section, number, html_of)
    for number in range(1, len(layout.pages) + 1):
        out[page_name(number)] = _page_markup(layout, snapshot, number, html_of)
    out[SHAPES] = shapes_json(layout)
    return out


def _render_one(parsed: Parsed, name: str) -> str:
    layout = layout_cached(parsed)
    snapshot = parsed.snapshot
    if name.startswith(f"{PLAY}/"):
        number = int(name.split("/")[1])
        first, end = layout.pages[number - 1]
        html_of = _posts_render(snapshot, snapshot["posts"][first:end])
        return _page_markup(layout, snapshot, number, html_of)
    anchor, number_text = name.split("/")
    section = layout.section(anchor)
    assert section is not None
    number = int(number_text)
    html_of = _posts_render(snapshot, [item.post for item in section.part_items(number)])
    return _part_markup(section, number, html_of)


def stored_html(loaded: LoadedTranscript, name: str) -> str:
    """A part or player page of this version: kept in this process, or stored when the
    version was archived (see services.transcript_render), or rendered now."""
    key = ("part", name)
    kept = loaded.parsed.derived.get(key)
    if kept is None:
        kept = (
            TranscriptPart.objects.filter(
                transcript_id=loaded.transcript.pk, fingerprint=templates_fingerprint(), name=name
            )
            .values_list("html", flat=True)
            .first()
        )
        if kept is None:
            kept = _render_one(loaded.parsed, name)
        loaded.parsed.derived[key] = kept
    return str(kept)


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


def shapes_json(layout: Layout) -> str:
    """The sections' shapes and the player's page count, stored as the part SHAPES."""
    return json.dumps(
        {
            "sections": [[s.anchor, s.label, len(s.items), len(s.parts)] for s in layout.sections],
            "pages": len(layout.pages),
        }
    )


@dataclass(frozen=True)
class Shapes:
    sections: dict[str, SectionShape]
    pages: int


def shapes_of(layout: Layout) -> Shapes:
    return Shapes({s.anchor: s.shape for s in layout.sections}, len(layout.pages))


def _shapes_load(text: str) -> Shapes:
    stored = json.loads(text)
    sections = {
        a: SectionShape(a, label, items, parts) for a, label, items, parts in stored["sections"]
    }
    return Shapes(sections, stored["pages"])


@dataclass(frozen=True)
class Current:
    """The jam's latest transcript version, as a part request needs it (not its content)."""

    pk: int
    version: int
    content_hash: str


def transcript_current(jam_id: int) -> Current | None:
    row = (
        Transcript.objects.filter(jam_id=jam_id)
        .order_by("-version")
        .values_list("pk", "version", "content_hash")
        .first()
    )
    return Current(*row) if row else None


def stored_with_shapes(current: Current, name: str) -> tuple[Shapes, str] | None:
    """The stored part `name` of the current version and the version's shapes, in one
    query, without reading the snapshot; None if either is not stored (yet)."""
    rows = dict(
        TranscriptPart.objects.filter(
            transcript_id=current.pk, fingerprint=templates_fingerprint(), name__in=[SHAPES, name]
        ).values_list("name", "html")
    )
    if SHAPES not in rows or name not in rows:
        return None
    return _shapes_load(rows[SHAPES]), rows[name]


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
            parts.append(stored_html(loaded, part_name(section.anchor, focus.part)))
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
