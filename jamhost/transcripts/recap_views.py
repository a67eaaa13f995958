"""The recap page, its Markdown and HTML downloads, and the host's thank-you post."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_edit
from jamhost.links import absolute_url
from jamhost.posts.models import Post
from jamhost.transcripts.recap import (
    recap_build,
    recap_filename,
    recap_html,
    recap_markdown,
    recap_thank_you_publish,
    recap_thank_you_text,
)
from jamhost.transcripts.views import jam_for_reader


def _ended(request: HttpRequest, slug: str) -> Jam:
    jam = jam_for_reader(request, slug)
    if not jam.is_over:
        raise Http404("The recap appears when the jam ends.")
    return jam


def _url(request: HttpRequest, jam: Jam) -> str:
    return absolute_url(reverse("transcripts:recap", args=[jam.slug]), request)


@require_GET
def recap_page(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _ended(request, slug)
    recap = recap_build(jam=jam, url=_url(request, jam))
    is_host = can_edit(user=request.user, jam=jam) and request.user.pk == jam.host_id
    return render(
        request,
        "transcripts/recap.html",
        {
            "jam": jam,
            "recap": recap,
            "is_host": is_host,
            "thank_you": recap_thank_you_text(recap) if is_host else "",
            "thanked": Post.objects.filter(jam=jam, client_key=f"recap:{jam.pk}").first()
            if is_host
            else None,
        },
    )


@require_GET
def recap_download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    jam = _ended(request, slug)
    recap = recap_build(jam=jam, url=_url(request, jam))
    if fmt == "md":
        response = HttpResponse(recap_markdown(recap), content_type="text/markdown; charset=utf-8")
    elif fmt == "html":
        response = HttpResponse(recap_html(recap), content_type="text/html; charset=utf-8")
    else:
        raise Http404("The recap comes as .md or .html.")
    response["Content-Disposition"] = f'attachment; filename="{recap_filename(recap, fmt)}"'
    return response


@require_POST
def recap_thank_you(request: HttpRequest, slug: str) -> HttpResponse:
    jam = _ended(request, slug)
    try:
        recap_thank_you_publish(
            jam=jam, actor=request.user, recap=recap_build(jam=jam, url=_url(request, jam))
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Your thank-you post is published with the recap link.")
    return redirect(reverse("transcripts:recap", args=[jam.slug]))
