"""Transcript pages: export downloads, past jams, imports (the replay: replay_views.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_view
from jamhost.ratelimit import Limited, rate_check
from jamhost.transcripts import replay
from jamhost.transcripts.exports import FORMATS, export_filename
from jamhost.transcripts.forms import ImportForm, PastJamSearchForm
from jamhost.transcripts.import_stream import CHUNK_BYTES
from jamhost.transcripts.importer import ImportOptions, import_job_create
from jamhost.transcripts.models import ImportJob
from jamhost.transcripts.selectors import past_jam_hosts, past_jams_search
from jamhost.transcripts.services import transcript_verified

PAST_PAGE_SIZE = 20


def jam_for_reader(request: HttpRequest, slug: str) -> Jam:
    jam = get_object_or_404(Jam.objects.select_related("host"), slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("draft")  # a draft is its host's business: as if it were not there
    return jam


def not_ready(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return render(
        request,
        "error.html",
        {
            "title": "No transcript yet",
            "message": " ".join(exc.messages) + " The transcript appears here when the jam ends.",
        },
        status=409,
    )


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
    jam = jam_for_reader(request, slug)
    try:
        loaded = transcript_verified(jam=jam)
    except ValidationError as exc:
        return not_ready(request, exc)
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
