"""The replay: the page, its lazily loaded parts and player pages, permalinks to a post or
a question (which are the replay positioned there), search inside the jam, and the images
of link previews."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from jamhost.jams.models import Jam, JamStatus
from jamhost.transcripts import parts, replay
from jamhost.transcripts.card_image import CardImage, card_png
from jamhost.transcripts.cards import (
    Card,
    jam_card,
    post_card,
    question_card,
    replay_card,
    replay_image,
)
from jamhost.transcripts.forms import JamSearchForm
from jamhost.transcripts.insights import insights_author_keys
from jamhost.transcripts.layout import Layout, Location, layout_cached, player_bounds
from jamhost.transcripts.models import Transcript
from jamhost.transcripts.search import transcript_search
from jamhost.transcripts.selectors import authors_seen_before, transcript_counts
from jamhost.transcripts.services import (
    LoadedTranscript,
    jam_check_archivable,
    transcript_verified,
)
from jamhost.transcripts.views import jam_for_reader, not_ready

SEARCH_PAGE_SIZE = 50


@dataclass(frozen=True)
class Focus:
    """Where the page opens: the part shown in full, and the moment the player is at."""

    location: Location | None
    seq: int | None = None  # the post a permalink points to
    at_ms: int | None = None  # where the player waits, ready to play
    label: str = ""


def _not_found(request: HttpRequest, jam: Jam, message: str) -> HttpResponse:
    return render(
        request,
        "transcripts/not_in_transcript.html",
        {"jam": jam, "message": message},
        status=404,
    )


def _latest_version(jam: Jam) -> int | None:
    return (
        Transcript.objects.filter(jam=jam).order_by("-version").values_list("version", flat=True)
    ).first()


def _body_context(
    request: HttpRequest, jam: Jam, loaded: LoadedTranscript, focus: Focus
) -> dict[str, Any]:
    layout = layout_cached(loaded.parsed)
    snapshot = loaded.snapshot
    seen = authors_seen_before(jam=jam, author_keys=insights_author_keys(snapshot))
    insights = replay.insights_cached(loaded.parsed, seen_before=seen)
    location = focus.location
    return {
        "jam": jam,
        "snapshot": snapshot,
        "counts": insights.counts,
        "insights": insights,
        "sections": replay.section_index(layout),
        "section_views": (
            replay.sections_view(loaded, slug=jam.slug, focus=location) if location else []
        ),
        "player": player_bounds(snapshot),
        "player_pages": replay.player_pages(layout),
        "play_url": replay.play_url(jam.slug, loaded.transcript.version),
        "version": loaded.transcript.version,
        "focus": focus,
        "search_form": JamSearchForm(questions=snapshot["questions"]),
    }


def _first_part(layout: Layout) -> Focus:
    first = layout.sections[0].anchor if layout.sections else None
    return Focus(location=Location(first, 1) if first else None)


def transcript_replay(request: HttpRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    """The replay: header, player, insights, the first part of the transcript, and a
    placeholder for every other part. Streamed: the page's top goes out before the
    snapshot is read."""
    jam = jam_for_reader(request, slug)
    try:
        jam_check_archivable(jam=jam)
    except ValidationError as exc:
        return not_ready(request, exc)
    card = replay_card(jam, request, version=_latest_version(jam))
    page = render_to_string(
        "transcripts/replay.html", {"jam": jam, "card": card, "streamed": True}, request=request
    )
    head, _, tail = page.partition(replay.BODY_MARKER)

    def stream() -> Iterator[str]:
        yield head
        loaded = transcript_verified(jam=jam)
        focus = _first_part(layout_cached(loaded.parsed))
        yield render_to_string(
            "transcripts/_replay_body.html",
            _body_context(request, jam, loaded, focus),
            request=request,
        )
        yield tail

    return StreamingHttpResponse(
        _streamed(request, stream()), content_type="text/html; charset=utf-8"
    )


def _streamed(request: HttpRequest, parts: Iterator[str]) -> Iterator[str] | AsyncIterator[str]:
    """Under ASGI Django reads a synchronous iterator to its end before sending a byte;
    hand it an asynchronous one that renders each part in the sync thread instead, so
    the page's top really goes out first."""
    if not isinstance(request, ASGIRequest):
        return parts
    done = object()
    step = sync_to_async(lambda: next(parts, done), thread_sensitive=True)

    async def each() -> AsyncIterator[str]:
        while (part := await step()) is not done:
            yield str(part)

    return each()


def _positioned(
    request: HttpRequest, jam: Jam, loaded: LoadedTranscript, focus: Focus, card: Card
) -> HttpResponse:
    context = _body_context(request, jam, loaded, focus)
    context.update(card=card, streamed=False)
    return render(request, "transcripts/replay.html", context)


def _loaded(request: HttpRequest, slug: str) -> tuple[Jam, LoadedTranscript | HttpResponse]:
    jam = jam_for_reader(request, slug)
    try:
        return jam, transcript_verified(jam=jam)
    except ValidationError as exc:
        return jam, not_ready(request, exc)


def transcript_section(request: HttpRequest, slug: str, anchor: str) -> HttpResponse:
    """A question's permalink (the replay opened at the question, the player at its
    release), and without JavaScript the page of any part of any section (?part=N)."""
    jam, loaded = _loaded(request, slug)
    if isinstance(loaded, HttpResponse):
        return loaded
    layout = layout_cached(loaded.parsed)
    section = layout.section(anchor)
    if section is None:
        return _not_found(request, jam, f"This jam's transcript has no {anchor.upper()}.")
    raw = request.GET.get("part", "1")
    part = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 0
    if not 1 <= part <= len(section.parts):
        return _not_found(
            request,
            jam,
            f"{section.label} has {len(section.parts)} part{'s' if len(section.parts) != 1 else ''}"
            f" in this transcript; there is no part {raw}.",
        )
    question = section.question
    question_post = section.section.question_post
    at = replay.section_index(layout)[layout.sections.index(section)].at
    focus = Focus(
        location=Location(anchor, part),
        seq=question_post["seq"] if question_post and part == 1 else None,
        at_ms=int(at * 1000) if question else None,
        label=section.label,
    )
    if question:
        card, _ = question_card(jam, question, request, version=loaded.transcript.version)
    else:
        card = replay_card(jam, request, version=loaded.transcript.version)
    return _positioned(request, jam, loaded, focus, card)


def transcript_post(request: HttpRequest, slug: str, seq: int) -> HttpResponse:
    """A post's permalink: the replay opened at the post, the player at its time."""
    jam, loaded = _loaded(request, slug)
    if isinstance(loaded, HttpResponse):
        return loaded
    layout = layout_cached(loaded.parsed)
    location = layout.where.get(seq)
    if location is None:
        return _not_found(
            request,
            jam,
            f"Post {seq} is not in this jam's transcript: it was hidden by a moderator, "
            "removed with its author's account, or never existed.",
        )
    post = layout.post(seq)
    focus = Focus(
        location=location,
        seq=seq,
        at_ms=layout.post_at[seq],
        label=f"the post by @{post['author']['handle']}",
    )
    card, _ = post_card(jam, post, loaded.snapshot, request, version=loaded.transcript.version)
    return _positioned(request, jam, loaded, focus, card)


def _gone(request: HttpRequest, jam: Jam) -> HttpResponse:
    """The page was opened on an older version of the transcript: its parts no longer
    fit (and the old version is not served: a deletion may have removed posts from it).
    replay.js puts this notice, with its link to open the replay again, in the part's
    place; the player says so on its clock."""
    response = render(request, "transcripts/_version_gone.html", {"jam": jam}, status=410)
    response["Cache-Control"] = "no-store"
    return response


def _fragment(request: HttpRequest, html: str, tag: str) -> HttpResponse:
    etag = f'"{tag}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"  # asked again each time: a new version may be out
    return response


@dataclass(frozen=True)
class _Served:
    jam: Jam
    current: parts.Current
    shapes: parts.Shapes
    html: str

    @property
    def tag(self) -> str:
        return f"{self.current.content_hash[:16]}-{parts.templates_fingerprint()[:8]}"


def _serve(
    request: HttpRequest, slug: str, version: int, name: str, valid: Callable[[parts.Shapes], bool]
) -> _Served | HttpResponse:
    """A stored part or player page of `version`, read without the snapshot (one query
    for the version, one for the part and the shapes of the sections); until it is
    stored, rendered from the snapshot. 410 for a superseded version, 404 if not `valid`."""
    jam = jam_for_reader(request, slug)
    current = parts.transcript_current(jam.pk)
    if current is not None and current.version != version:
        return _gone(request, jam)
    stored = parts.stored_with_shapes(current, name) if current else None
    if current is not None and stored is not None:
        shapes, html = stored
        if not valid(shapes):
            return _not_found(request, jam, "There is no such part of this transcript.")
        return _Served(jam, current, shapes, html)
    jam, loaded = _loaded(request, slug)
    if isinstance(loaded, HttpResponse):
        return loaded
    if loaded.transcript.version != version:
        return _gone(request, jam)
    shapes = parts.shapes_of(layout_cached(loaded.parsed))
    if not valid(shapes):
        return _not_found(request, jam, "There is no such part of this transcript.")
    current = parts.Current(loaded.transcript.pk, version, loaded.transcript.content_hash)
    return _Served(
        jam, current, shapes, parts.stored_html(loaded.parsed, loaded.transcript.pk, name)
    )


def transcript_part(
    request: HttpRequest, slug: str, version: int, anchor: str, first: int, last: int
) -> HttpResponse:
    """What a placeholder for parts first..last of a section is swapped for (see
    replay.range_load): the first part (or with ?from=end the last) and a placeholder
    for the rest."""
    from_end = request.GET.get("from") == "end"
    name = parts.part_name(anchor, last if from_end else first)

    def valid(shapes: parts.Shapes) -> bool:
        section = shapes.sections.get(anchor)
        return section is not None and 1 <= first <= last <= section.parts

    served = _serve(request, slug, version, name, valid)
    if isinstance(served, HttpResponse):
        return served
    rng = replay.Range(served.shapes.sections[anchor], first, last, from_end=from_end)
    html = replay.range_load(slug=served.jam.slug, version=version, rng=rng, part=served.html)
    return _fragment(request, html, f"{served.tag}-{anchor}-{first}-{last}-{int(from_end)}")


def transcript_play(request: HttpRequest, slug: str, version: int, page: int) -> HttpResponse:
    """A page of the player: PAGE_POSTS posts in the order they arrived."""
    served = _serve(request, slug, version, parts.page_name(page), lambda s: 1 <= page <= s.pages)
    if isinstance(served, HttpResponse):
        return served
    return _fragment(request, served.html, f"{served.tag}-play-{page}")


def transcript_search_view(request: HttpRequest, slug: str) -> HttpResponse:
    """Posts of this jam by words, author and question; each result links to the post's
    permalink in the replay. The replay page asks for the results alone (htmx)."""
    jam, loaded = _loaded(request, slug)
    if isinstance(loaded, HttpResponse):
        return loaded
    questions = loaded.snapshot["questions"]
    form = JamSearchForm(request.GET or None, questions=questions)
    if form.is_bound:
        form.is_valid()
    search = form.search()
    hits = transcript_search(loaded.parsed, search=search)
    page = Paginator(hits, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "jam": jam,
        "form": form,
        "search": search,
        "page": page,
        "query": query.urlencode(),
        "questions": {q["number"]: q for q in questions},
    }
    if getattr(request, "htmx", False):
        return render(request, "transcripts/_search_results.html", context)
    return render(request, "transcripts/search.html", context)


# Link preview images ---------------------------------------------------------------------------


def _png(request: HttpRequest, jam: Jam, image: CardImage, scope: str) -> HttpResponse:
    response = HttpResponse(card_png(image, scope=scope), content_type="image/png")
    public = jam.status != JamStatus.DRAFT
    response["Cache-Control"] = f"{'public' if public else 'private'}, max-age=3600"
    response["ETag"] = f'"{image.digest}"'
    return response


def jam_card_image(request: HttpRequest, slug: str) -> HttpResponse:
    jam = jam_for_reader(request, slug)
    _, image = jam_card(jam)
    return _png(request, jam, image, scope=f"jam{jam.pk}")


def replay_card_image(request: HttpRequest, slug: str) -> HttpResponse:
    jam, loaded = _loaded(request, slug)
    if isinstance(loaded, HttpResponse):
        return loaded
    image = replay_image(jam, transcript_counts(loaded.snapshot))
    return _png(request, jam, image, scope=f"jam{jam.pk}v{loaded.transcript.version}")


def section_card_image(request: HttpRequest, slug: str, anchor: str) -> HttpResponse:
    jam, loaded = _loaded(request, slug)
    if isinstance(loaded, HttpResponse):
        return loaded
    section = layout_cached(loaded.parsed).section(anchor)
    if section is None:
        return _not_found(request, jam, f"This jam's transcript has no {anchor.upper()}.")
    if section.question is None:
        image = replay_image(jam, transcript_counts(loaded.snapshot))
    else:
        _, image = question_card(jam, section.question, version=loaded.transcript.version)
    return _png(request, jam, image, scope=f"jam{jam.pk}v{loaded.transcript.version}")


def post_card_image(request: HttpRequest, slug: str, seq: int) -> HttpResponse:
    jam, loaded = _loaded(request, slug)
    if isinstance(loaded, HttpResponse):
        return loaded
    layout = layout_cached(loaded.parsed)
    if seq not in layout.where:
        return _not_found(request, jam, f"Post {seq} is not in this jam's transcript.")
    version = loaded.transcript.version
    _, image = post_card(jam, layout.post(seq), loaded.snapshot, version=version)
    return _png(request, jam, image, scope=f"jam{jam.pk}v{version}")
