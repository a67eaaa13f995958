"""The replay page's transcript, rendered with the live room's post fragment.

The page's top goes out first; then the player, insights and question index; then the
posts section by section, so the first byte waits for neither the snapshot nor thousands
of posts to render.
Posts are rebuilt from the snapshot as unsaved Post objects (no queries) so that
templates/posts/_post.html shows them exactly as the live room did.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.template.loader import get_template

from jamhost.jams.models import Question
from jamhost.live.render import VIEWER
from jamhost.posts.models import Post, PostStatus
from jamhost.transcripts.exports import export_render
from jamhost.transcripts.insights import Insights, insights_build
from jamhost.transcripts.memo import Parsed
from jamhost.transcripts.models import TranscriptRendering
from jamhost.transcripts.services import LoadedTranscript
from jamhost.transcripts.snapshot import Section, Snapshot, parse_iso, snapshot_sections

BODY_MARKER = "<!-- transcript body -->"
RENDER_VERSION = "1"  # change with the markup written in _sections_render
CHUNK = 250


@dataclass(frozen=True)
class SectionEntry:
    anchor: str
    label: str
    text: str
    at: float  # seconds after the player's start when the question was released
    answers: int


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


def section_index(snapshot: Snapshot) -> list[SectionEntry]:
    start = parse_iso(player_bounds(snapshot).start)
    entries = []
    for section in snapshot_sections(snapshot):
        released = section.question.get("released_at") if section.question else None
        entries.append(
            SectionEntry(
                anchor=section.anchor,
                label=section.label,
                text=section.question["text"] if section.question else "",
                at=(parse_iso(released) - start).total_seconds() if released else 0.0,
                answers=len(section.answers),
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


SECTION_TEMPLATES = (
    "posts/_post.html",
    "transcripts/_section_open.html",
    "transcripts/_posts.html",
)
STREAM_PART = 64 * 1024


@functools.cache
def templates_fingerprint() -> str:
    """What the rendered posts depend on besides the snapshot: the templates' text (and
    this module's own markup, through RENDER_VERSION)."""
    digest = hashlib.sha256(RENDER_VERSION.encode())
    for name in SECTION_TEMPLATES:
        digest.update(get_template(name).template.source.encode())  # type: ignore[attr-defined]
    return digest.hexdigest()


def sections_render_all(snapshot: Snapshot) -> str:
    return "".join(_sections_render(snapshot))


def sections_html(parsed: Parsed, *, transcript_id: int) -> Iterator[str]:
    """The transcript's sections as HTML, a part at a time: kept in this process, or
    stored when the transcript was archived (see transcript_render), or rendered now
    a chunk of posts at a time."""
    key = ("sections",)
    kept = parsed.derived.get(key)
    if kept is None:
        stored = (
            TranscriptRendering.objects.filter(
                transcript_id=transcript_id, fingerprint=templates_fingerprint()
            )
            .values_list("html", flat=True)
            .first()
        )
        if stored is not None:
            kept = [stored[at : at + STREAM_PART] for at in range(0, len(stored), STREAM_PART)]
            parsed.derived[key] = kept
    if kept is not None:
        yield from kept
        return
    rendered: list[str] = []
    for part in _sections_render(parsed.snapshot):
        rendered.append(part)
        yield part
    parsed.derived[key] = rendered


def _sections_render(snapshot: Snapshot) -> Iterator[str]:
    questions = {
        q["number"]: Question(number=q["number"], text=q["text"]) for q in snapshot["questions"]
    }
    opening = get_template("transcripts/_section_open.html")
    posts_template = get_template("transcripts/_posts.html")

    def posts_html(entries: list[dict[str, Any]]) -> Iterator[str]:
        for at in range(0, len(entries), CHUNK):
            chunk = [post_from_snapshot(e, questions) for e in entries[at : at + CHUNK]]
            yield posts_template.render({"posts": chunk, "audience": VIEWER})

    section: Section
    for section in snapshot_sections(snapshot):
        yield opening.render({"section": section})
        if section.question_post:
            yield from posts_html([section.question_post])
        if section.lead:
            yield '<h3 class="answers-head">Panelists and featured answers</h3>'
            yield from posts_html(section.lead)
        if section.community:
            yield '<h3 class="answers-head">Community</h3>'
            yield from posts_html(section.community)
        if not section.answers:
            yield '<p class="empty">No answers.</p>'
        yield "</section>"
