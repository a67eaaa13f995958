"""The replay's parts: a transcript version's sections cut as layout.py says, and the
player's pages, rendered with the live room's post fragment and stored once per version.

Posts are rebuilt from the snapshot as unsaved Post objects (no queries) so that
templates/posts/_post.html shows them exactly as the live room did; each links to its
permalink. The render_transcript task stores every part and page of a new version
(TranscriptPart), with the shapes of its sections (SHAPES), so that a part is served
without reading the snapshot; until then, or for other templates, a request renders the
part it needs from the parsed snapshot.
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

from jamhost.jams.models import Question
from jamhost.posts.models import Post, PostStatus, Source
from jamhost.posts.render import VIEWER
from jamhost.transcripts.layout import (
    PAGE_POSTS,
    PART_POSTS,
    Layout,
    SectionLayout,
    SectionShape,
    layout_cached,
)
from jamhost.transcripts.memo import Parsed
from jamhost.transcripts.models import Transcript, TranscriptPart
from jamhost.transcripts.snapshot import Snapshot, parse_iso

RENDER_VERSION = "3"  # change with the markup written in this module
PLAY = "play"
SHAPES = "shapes"
SECTION_TEMPLATES = (
    "posts/_post.html",
    "networks/_post_network.html",
    "audience/_post_audience.html",
)
X_STATUS_PREFIX = "https://x.com/"
GROUP_HEADINGS = {"lead": "Panelists and featured answers", "community": "Community"}


def _elsewhere(entry: dict[str, Any], on_x: str) -> dict[str, Any]:
    """Where the post went, as the fragment reads it (post.elsewhere): the snapshot's
    networks, and X when its link is an X post (the snapshot keeps that one as `link`)."""
    found = dict(entry.get("elsewhere") or {})
    if on_x:
        found["x"] = {"status": "published", "url": on_x, "error": ""}
    return found


def post_from_snapshot(entry: dict[str, Any], questions: dict[int, Question]) -> Post:
    """An unsaved Post carrying what the fragment shows. Its pk is the seq: replay
    anchors (#post-<seq>) stay stable across transcript versions. The network links are
    the snapshot's (an older snapshot has none but `link`)."""
    author = entry["author"]
    link = entry.get("link") or ""
    on_x = entry["source"] == Source.APP and link.startswith(X_STATUS_PREFIX)
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
        remote_url=link if entry["source"] != Source.IMPORT else "",
        author_url=author.get("url") or "",
        elsewhere=_elsewhere(entry, link if on_x else ""),
        status=PostStatus.VISIBLE,
        pinned=entry["pinned"],
        featured=entry["featured"],
        created_at=parse_iso(entry["time"]),
        # Seqs, like pk: a reply links to its parent's #post-<seq> anchor.
        reply_to_id=entry.get("reply_to"),
        upvotes=int((entry.get("metrics") or {}).get("upvotes") or 0),
    )


@functools.cache
def templates_fingerprint() -> str:
    """What the rendered parts depend on besides the snapshot: the templates' text (and
    this module's own markup, through RENDER_VERSION, and the layout's part sizes)."""
    digest = hashlib.sha256(f"{RENDER_VERSION}:{PART_POSTS}:{PAGE_POSTS}".encode())
    for name in SECTION_TEMPLATES:
        digest.update(get_template(name).template.source.encode())  # type: ignore[attr-defined]
    return digest.hexdigest()


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


def stored_html(parsed: Parsed, transcript_id: int, name: str) -> str:
    """A part or player page of this version: kept in this process, or stored when the
    version was archived (see services.transcript_render), or rendered now."""
    key = ("part", name)
    kept = parsed.derived.get(key)
    if kept is None:
        kept = (
            TranscriptPart.objects.filter(
                transcript_id=transcript_id, fingerprint=templates_fingerprint(), name=name
            )
            .values_list("html", flat=True)
            .first()
        )
        if kept is None:
            kept = _render_one(parsed, name)
        parsed.derived[key] = kept
    return str(kept)


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
