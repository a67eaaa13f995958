"""Send htmx requests from a logged-out browser to the log-in page as a whole page.

htmx follows a 302 by itself and swaps whatever comes back into the target, so a session
that expired while a page was open would put the whole log-in page inside a small panel.
An htmx request is instead told to load the log-in page in the window (`HX-Redirect`),
with `next` pointing at the page the person was on, not at the fragment URL it asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class HtmxLoginRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        details: HtmxDetails | None = getattr(request, "htmx", None)
        if not details or response.status_code not in (301, 302, 303, 307, 308):
            return response
        location = urlsplit(response.get("Location", ""))
        if location.path != urlsplit(resolve_url(settings.LOGIN_URL)).path:
            return response
        # The page shown in the browser; the view's own `next` is often a fragment or a
        # POST-only URL, which would be a broken page to come back to after logging in.
        page = details.current_url_abs_path
        if page is None:
            page = parse_qs(location.query).get(REDIRECT_FIELD_NAME, [request.get_full_path()])[0]
        return HttpResponseClientRedirect(redirect_to_login(page)["Location"])
