"""Absolute addresses of jamhost's pages, for links people copy, scan or subscribe to
(invite links, the big screen's QR code, the Atom feed, calendar files).

With SITE_URL set, every link uses it. Unset, a link built while answering a request
uses the address that request came to (scheme, host and port; the host is checked
against ALLOWED_HOSTS by Django), so `make run PORT=9201` hands out links to port 9201.
Work done outside a request (Celery tasks, management commands) falls back to
SITE_URL_FALLBACK.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def absolute_url(path: str, request: HttpRequest | None = None) -> str:
    """`path` (starting with /) as an absolute address people can reach."""
    if settings.SITE_URL:
        return settings.SITE_URL + path
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.SITE_URL_FALLBACK + path


def site_root(request: HttpRequest | None = None) -> str:
    """The scheme, host and port links start with, without a trailing slash."""
    return absolute_url("/", request)[:-1]
