"""What happens to a connection before Django or a consumer sees it (ASGI middleware):

- `trusted_proxies`: X-Forwarded-For and X-Forwarded-Proto are believed only from the
  addresses in TRUSTED_PROXIES (uvicorn's ProxyHeadersMiddleware: the client is the
  right-most address in the chain that is not a trusted proxy). With none configured the
  headers are ignored, so nobody can pick the address per-address limits count.
- `BodyLimit`: a request body over its cap is refused with 413 before it is read: at
  once when Content-Length says so, and as soon as a chunked body passes the cap. The
  import form's cap is IMPORT_MAX_BYTES (plus the form around the file); every other
  request's is REQUEST_MAX_BYTES.
- `SocketsPerAddress`: at most LIVE_SOCKETS_PER_ADDRESS open websockets per client
  address in this process; one more is refused at the handshake.
- `OriginCheck`: a websocket's Origin must match the page's own scheme, host and port
  (or be one of CSRF_TRUSTED_ORIGINS), as Django's CSRF check does for forms.

Each refusal is one log line.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import reverse
from django.utils.html import escape
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from jamhost import metrics

log = logging.getLogger(__name__)

ASGIApp = Any
FORM_MARGIN = 1_000_000  # the import form's other fields and multipart boundaries
DEFAULT_PORTS = {"http": 80, "https": 443}


def trusted_proxies(app: ASGIApp) -> ASGIApp:
    proxies = settings.TRUSTED_PROXIES
    return ProxyHeadersMiddleware(app, trusted_hosts=proxies) if proxies else app


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _client(scope: dict[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _page(title: str, message: str) -> bytes:
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>"
        f'<body><h1>{escape(title)}</h1><p>{escape(message)}</p><p><a href="/">Back to the '
        "jams</a></p></body></html>"
    ).encode()


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._upload_path = ""

    def limit_for(self, path: str) -> tuple[int, str]:
        if not self._upload_path:
            self._upload_path = reverse("transcripts:import")
        if path == self._upload_path:
            limit = settings.IMPORT_MAX_BYTES
            return limit + FORM_MARGIN, (
                f"The file is over the limit of {limit / 1e6:g} MB. Split it into one file "
                "per jam and upload each."
            )
        limit = settings.REQUEST_MAX_BYTES
        return limit, f"This request is over the limit of {limit / 1e6:g} MB."

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, message = self.limit_for(scope.get("path", ""))
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            self._refused(scope, int(declared), limit)
            await self._answer_413(send, message)
            return
        state = {"read": 0, "answered": False}

        async def limited_receive() -> Any:
            event = await receive()
            if event["type"] == "http.request" and not state["answered"]:
                state["read"] += len(event.get("body", b""))
                if state["read"] > limit:
                    state["answered"] = True
                    self._refused(scope, state["read"], limit)
                    await self._answer_413(send, message)
                    return {"type": "http.disconnect"}  # the app stops reading, quietly
            return event

        async def guarded_send(event: Any) -> None:
            if not state["answered"]:
                await send(event)

        await self.app(scope, limited_receive, guarded_send)

    def _refused(self, scope: dict[str, Any], size: int, limit: int) -> None:
        metrics.REFUSED.labels(reason="body_too_large").inc()
        log.warning(
            "refused %s %s from %s: body of %s bytes or more, over the limit of %s",
            scope.get("method"),
            scope.get("path"),
            _client(scope),
            size,
            limit,
        )

    @staticmethod
    async def _answer_413(send: Any, message: str) -> None:
        body = _page("Too large", message)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class SocketsPerAddress:
    """Counts this process's open websockets per client address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.open: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        address = _client(scope)
        if self.open[address] >= settings.LIVE_SOCKETS_PER_ADDRESS:
            metrics.REFUSED.labels(reason="sockets_per_address").inc()
            log.warning(
                "refused a websocket to %s from %s: %s already open from that address",
                scope.get("path"),
                address,
                self.open[address],
            )
            await _refuse_socket(receive, send)
            return
        self.open[address] += 1
        metrics.SOCKETS_OPEN.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            metrics.SOCKETS_OPEN.dec()
            self.open[address] -= 1
            if not self.open[address]:
                del self.open[address]


async def _refuse_socket(receive: Any, send: Any) -> None:
    event = await receive()
    if event["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 1008})


def origin_allowed(scope: dict[str, Any]) -> bool:
    """The Origin is the socket's own page (same scheme, host and port; the host one of
    ALLOWED_HOSTS) or one of CSRF_TRUSTED_ORIGINS. A missing or "null" Origin is not."""
    origin = _header(scope, b"origin").strip().lower()
    if not origin or origin == "null":
        return False
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return False
    if not parts.hostname or parts.scheme not in DEFAULT_PORTS:
        return False
    given = (parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme])
    trusted = set()
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        entry_parts = urlsplit(entry.strip().lower())
        if entry_parts.hostname and entry_parts.scheme in DEFAULT_PORTS:
            scheme = entry_parts.scheme
            trusted.add((scheme, entry_parts.hostname, entry_parts.port or DEFAULT_PORTS[scheme]))
    if given in trusted:
        return True
    host, port_text = split_domain_port(_header(scope, b"host"))
    if not host or not validate_host(host, settings.ALLOWED_HOSTS):
        return False
    scheme = "https" if _socket_is_secure(scope) else "http"
    own_port = int(port_text) if port_text.isdigit() else DEFAULT_PORTS[scheme]
    return given == (scheme, host, own_port)


def _socket_is_secure(scope: dict[str, Any]) -> bool:
    """As Django's request.is_secure(): the connection's scheme, which `trusted_proxies`
    has set from X-Forwarded-Proto when a TRUSTED_PROXIES proxy sent it."""
    return scope.get("scheme") in ("wss", "https")


class OriginCheck:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            metrics.REFUSED.labels(reason="origin").inc()
            log.warning(
                "refused a websocket to %s from %s: Origin %r is not this site",
                scope.get("path"),
                _client(scope),
                _header(scope, b"origin")[:100],
            )
            await _refuse_socket(receive, send)
            return
        await self.app(scope, receive, send)


def edge(app: ASGIApp) -> ASGIApp:
    """The application behind the body cap and the per-address socket cap, with the
    proxy headers read first (so that both see the client's own address). OriginCheck
    goes in front of the websocket routes."""
    return trusted_proxies(BodyLimit(SocketsPerAddress(app)))
