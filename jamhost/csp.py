"""The Content-Security-Policy header on every response.

Scripts come only from our own static files (templates carry no inline scripts or
handlers), so an injected `<script>` or `onerror=` cannot run even if escaping ever
failed somewhere. Inline *styles* stay allowed: htmx adds its indicator style and the
plain 503 page is self-contained; a style cannot run code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response


def policy_framed_by(sources: Sequence[str]) -> str:
    """The site's policy with its frame-ancestors replaced by `sources` (CSP source
    expressions: `'self'`, origins): for the one page other sites may frame, the embed.
    Every other response keeps the policy's own frame-ancestors ('none' by default) and
    X-Frame-Options DENY."""
    ancestors = "frame-ancestors " + " ".join(sources)
    kept = [
        part.strip()
        for part in settings.CONTENT_SECURITY_POLICY.split(";")
        if part.strip() and part.split()[0].lower() != "frame-ancestors"
    ]
    return "; ".join([*kept, ancestors])
