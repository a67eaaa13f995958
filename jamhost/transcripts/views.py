"""Transcript pages: replay with insights, export downloads, past jams, imports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string

from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_view
from jamhost.ratelimit import Limited, rate_check
from jamhost.transcripts import replay
from jamhost.transcripts.exports import FORMATS, export_filename
from jamhost.transcripts.forms import ImportForm, PastJamSearchForm
from jamhost.transcripts.import_stream import CHUNK_BYTES
from jamhost.transcripts.importer import ImportOptions, import_job_create
from jamhost.transcripts.insights import insights_author_keys
from jamhost.transcripts.models import ImportJob
from jamhost.transcripts.selectors import authors_seen_before, past_jam_hosts, past_jams_search
from jamhost.transcripts.services import jam_check_archivable, transcript_verified

PAST_PAGE_SIZE = 20


def _jam_for_reader(request: HttpRequest, slug: str) -> Jam:
    jam = get_object_or_404(Jam.objects.select_related("host"), slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("draft")  # a draft is its host's business: as if it were not there
    return jam


def _not_ready(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return render(
        request,
        "error.html",
        {
            "title": "No transcript yet",
            "message": " ".join(exc.messages) + " The transcript appears here when the jam ends.",
        },
        status=409,
    )


def transcript_replay(request: HttpRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    """The transcript grouped by question, the player and the insights, streamed: the
    page's top goes out before the snapshot is read, then the player and insights, then
    the posts section by section."""
    jam = _jam_for_reader(request, slug)
    try:
        jam_check_archivable(jam=jam)
    except ValidationError as exc:
        return _not_ready(request, exc)
    page = render_to_string("transcripts/replay.html", {"jam": jam}, request=request)
    head, _, tail = page.partition(replay.BODY_MARKER)

    def stream() -> Iterator[str]:
        yield head
        loaded = transcript_verified(jam=jam)
        seen = authors_seen_before(jam=jam, author_keys=insights_author_keys(loaded.snapshot))
        yield render_to_string(
            "transcripts/_replay_body.html",
            {
                "jam": jam,
                "snapshot": loaded.snapshot,
                "insights": replay.insights_cached(loaded.parsed, seen_before=seen),
                "sections": replay.section_index(loaded.snapshot),
                "player": replay.player_bounds(loaded.snapshot),
            },
            request=request,
        )
        yield from replay.sections_html(loaded.parsed, transcript_id=loaded.transcript.pk)
        yield "</div>"
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


def transcript_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        return render(
            request,
            "error.html",
            {
                "title": "Unknown format",
                "message": "Download the transcript as " + ", ".join(FORMATS) + ".",
            },
            status=404,
        )
    jam = _jam_for_reader(request, slug)
    try:
        loaded = transcript_verified(jam=jam)
    except ValidationError as exc:
        return _not_ready(request, exc)
    body = replay.export_cached(loaded, fmt=fmt)
    response = HttpResponse(body.encode("utf-8"), content_type=FORMATS[fmt].content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{export_filename(loaded.snapshot, fmt)}"'
    )
    response["ETag"] = f'"{loaded.transcript.content_hash}-{fmt}"'
    return response


def past_jams(request: HttpRequest) -> HttpResponse:
    form = PastJamSearchForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    jams = past_jams_search(filters=form.filters())
    page = Paginator(jams, PAST_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "transcripts/past.html",
        {"form": form, "page": page, "hosts": past_jam_hosts(), "query": query.urlencode()},
    )


@login_required
def import_start(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        options = ImportOptions(
            file_format=form.cleaned_data["file_format"] or "auto",
            title=form.cleaned_data["title"],
            hashtag=form.cleaned_data["hashtag"],
            encoding=form.cleaned_data["encoding"].strip(),
            host_handle=form.cleaned_data["host_handle"],
            panelists=form.panelist_handles(),
        )
        try:
            rate_check(
                request=request,
                scope="import",
                user_key=str(request.user.pk),
                rates=(settings.RATE_IMPORT_USER, settings.RATE_IMPORT_ADDRESS),
                what="imports",
            )
            job = import_job_create(
                owner=request.user,
                filename=upload.name or "upload",
                chunks=upload.chunks(CHUNK_BYTES),
                options=options,
            )
        except Limited as limited:
            form.add_error(None, limited.message)
            response = render(request, "transcripts/import.html", {"form": form}, status=429)
            response["Retry-After"] = str(limited.retry_after)
            return response
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return redirect("transcripts:import_job", job_id=job.pk)
    return render(request, "transcripts/import.html", {"form": form})


@login_required
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.select_related("jam"), pk=job_id)
    if job.owner_id != request.user.pk and not request.user.is_staff:
        raise PermissionDenied("This import belongs to someone else.")
    polled = bool(getattr(request, "htmx", False))
    template = "transcripts/_import_progress.html" if polled else "transcripts/import_job.html"
    return render(request, template, {"job": job})
