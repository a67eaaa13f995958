"""A jam's embed: its live stream inside another site's page, and the host's page that
makes the snippet and chooses which sites may show it.

The embed is the live room read-only: the same header, the same post fragment, the same
viewer socket and catch-up (so it counts as a viewer, and everything the room's live path
carries reaches it), and nothing that needs a session. In a frame on another site the
browser sends no jamhost cookie (third-party cookies are blocked more and more), so the
page has no form, no CSRF token and no per-person part.

It is the one page other sites may frame: its Content-Security-Policy's frame-ancestors
name jamhost itself and the origins the host allowed (jams.embedding); every other page
keeps frame-ancestors 'none' and X-Frame-Options DENY.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.clickjacking import xframe_options_exempt

from jamhost import metrics
from jamhost.csp import policy_framed_by
from jamhost.jams.embedding import embed_origin_clean, embed_origins_of, jam_embed_origins_set
from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_edit, can_view
from jamhost.links import absolute_url
from jamhost.live.embed_options import (
    MAX_HEIGHT,
    MIN_HEIGHT,
    ORDERS,
    SHOWS,
    THEMES,
    EmbedOptions,
    embed_options_parse,
)
from jamhost.posts.render import VIEWER, render_header
from jamhost.posts.selectors import posts_for_room

log = logging.getLogger(__name__)


def _framed(response: HttpResponse, jam: Jam) -> HttpResponse:
    response["Content-Security-Policy"] = policy_framed_by(["'self'", *embed_origins_of(jam)])
    return response


@xframe_options_exempt
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    """The embed page. A draft answers 404 as its room does (in another site's frame,
    with no session, that is everyone); wrong options answer 400 with what to write."""
    jam = get_object_or_404(Jam.objects.select_related("host", "current_question"), slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("draft")
    try:
        options = embed_options_parse(request.GET)
    except ValidationError as exc:
        errors = [message for messages_ in exc.message_dict.values() for message in messages_]
        response = render(
            request,
            "live/embed_refused.html",
            {
                "jam": jam,
                "errors": errors,
                "room_url": absolute_url(_room_path(jam), request),
                "parent_origins": _parent_origins(jam, request),
            },
            status=400,
        )
        return _framed(response, jam)
    _note_a_site_not_allowed(request, jam)
    rev = jam.rev  # read before the posts: the socket catches up from here
    pinned, stream = posts_for_room(jam=jam, audience=VIEWER)
    response = render(
        request,
        "live/embed.html",
        {
            "jam": jam,
            "rev": rev,
            "options": options,
            "header": render_header(jam),
            "pinned": [post for post in pinned if options.shows(post)],
            "stream": [post for post in stream if options.shows(post)],
            "audience": VIEWER,
            "question_count": jam.questions.count(),
            "room_url": absolute_url(_room_path(jam), request),
            "calendar_url": absolute_url(reverse("jams:calendar", args=[jam.slug]), request),
            "parent_origins": _parent_origins(jam, request),
        },
    )
    return _framed(response, jam)


def _framing_site(request: HttpRequest) -> str | None:
    """The origin of the page that frames the embed, when the browser tells it: a frame's
    request says `Sec-Fetch-Dest: iframe` and, unless that page forbids it, carries the
    page's address (or origin) as Referer."""
    if request.headers.get("Sec-Fetch-Dest") != "iframe":
        return None
    try:
        referer = urlsplit(request.headers.get("Referer", "")[:2000])
        return embed_origin_clean(f"{referer.scheme}://{referer.netloc}")
    except (ValueError, ValidationError):
        return None  # none, or not a site's address: nothing to tell


def _note_a_site_not_allowed(request: HttpRequest, jam: Jam) -> None:
    """One log line and a count (jamhost_refused{reason="embed_site"}) when a site the
    host did not allow frames the embed: the browser will refuse to show it there."""
    site = _framing_site(request)
    own = absolute_url("/", request).rstrip("/")
    if site is None or site == own or site in embed_origins_of(jam):
        return
    metrics.REFUSED.labels(reason="embed_site").inc()
    log.info("the embed of jam %s was framed by %s, not one of its sites: refused", jam.pk, site)


def _parent_origins(jam: Jam, request: HttpRequest) -> list[str]:
    """Whom the frame tells its height (static/js/embed-frame.js): the sites that may
    show it, and jamhost itself (the host's preview)."""
    return [absolute_url("/", request).rstrip("/"), *embed_origins_of(jam)]


def _room_path(jam: Jam) -> str:
    return reverse("live:room", args=[jam.slug])


def embed_snippet(*, embed_url: str, script_url: str, title: str, height: int) -> str:
    """The HTML a host pastes into their page: the frame, and the script that fits its
    height to what it shows (optional: without it the frame keeps `height`). Not a lazy
    frame: the script takes a frame that never says it loaded for a refused one."""
    # Every value escaped for an attribute.
    return format_html(
        '<iframe src="{}" title="{}" width="100%" height="{}" '
        'style="border:0;max-width:100%" data-jamhost-embed></iframe>\n'
        '<script src="{}" async></script>',
        embed_url,
        title,
        height,
        script_url,
    )


def _absolute_static(path: str, request: HttpRequest) -> str:
    url = static(path)
    return url if "://" in url else absolute_url(url, request)


def embed_setup(request: HttpRequest, slug: str) -> HttpResponse:
    """The host's page for the embed: the sites that may show it (POST), and the
    snippet with the options picked (GET), with a preview."""
    jam = get_object_or_404(Jam, slug=slug)
    if not can_edit(user=request.user, jam=jam):
        raise PermissionDenied("Only the jam's host chooses where it is shown.")
    origins_text = "\n".join(jam.embed_origins)
    origin_errors: list[str] = []
    if request.method == "POST":
        origins_text = request.POST.get("origins", "")[:10_000]
        try:
            origins = jam_embed_origins_set(jam=jam, text=origins_text)
        except ValidationError as exc:
            origin_errors = exc.messages
        else:
            shown_on = ", ".join(origins) or "none but jamhost itself"
            messages.success(request, f"Saved. These sites may show the jam: {shown_on}.")
            return redirect(reverse("live:embed_setup", args=[jam.slug]) + "#origins")
    try:
        options = embed_options_parse(request.GET)
        option_errors: list[str] = []
    except ValidationError as exc:
        options = EmbedOptions()
        option_errors = [m for ms in exc.message_dict.values() for m in ms]
    embed_path = reverse("live:embed", args=[jam.slug]) + options.query()
    return render(
        request,
        "live/embed_setup.html",
        {
            "jam": jam,
            "options": options,
            "option_errors": option_errors,
            "origin_errors": origin_errors,
            "origins_text": origins_text,
            "embed_path": embed_path,
            "snippet": embed_snippet(
                embed_url=absolute_url(embed_path, request),
                script_url=_absolute_static("js/embed.js", request),
                title=f"{jam.title} — live on jamhost",
                height=options.height,
            ),
            "themes": THEMES,
            "shows": SHOWS,
            "orders": ORDERS,
            "min_height": MIN_HEIGHT,
            "max_height": MAX_HEIGHT,
        },
        status=400 if origin_errors else 200,
    )
