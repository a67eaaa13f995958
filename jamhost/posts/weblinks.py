"""Which addresses from outside (imports, X) a page may link to or load an image from.

Links: only http(s) web addresses, so a `javascript:` or `data:` URL in an imported file
never becomes a link. Images: only https from the networks' avatar hosts
(AVATAR_HOSTS), so a post cannot make every reader's browser fetch from anywhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

MAX_URL = 500


def web_url(url: str) -> str:
    """The address if it is an http(s) URL with a host and no spaces or control
    characters; "" otherwise."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL or any(c.isspace() or ord(c) < 0x20 for c in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return url


def avatar_url(url: str) -> str:
    """The address if it is an https image on one of AVATAR_HOSTS; "" otherwise."""
    url = web_url(url)
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or parts.port not in (None, 443):
        return ""
    return url if (parts.hostname or "").lower() in settings.AVATAR_HOSTS else ""
