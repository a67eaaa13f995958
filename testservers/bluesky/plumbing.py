"""The Bluesky-compatible server's HTTP plumbing that every route shares: answers (checked
against the atproto lexicons when the test asks), bodies, and bearer tokens as the PDS
checks them."""

from __future__ import annotations

import contextlib
import json
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from testservers.bluesky.wire import xrpc_error

if TYPE_CHECKING:
    from testservers.bluesky.state import BlueskyEmulator


class Plumbing(BaseHTTPRequestHandler):
    bsky: BlueskyEmulator
    protocol_version = "HTTP/1.1"
    rate_headers: dict[str, str]
    nsid: str = ""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        if self.nsid and not isinstance(body, bytes) and self.bsky.validate is not None:
            try:
                self.bsky.validate(self.nsid, status, body)
            except Exception as exc:
                self.bsky.validation_errors.append(f"{self.nsid} {status}: {exc}")
        self.send_response(status)
        merged = {
            "content-type": "application/json; charset=utf-8",
            **getattr(self, "rate_headers", {}),
            **{k.lower(): v for k, v in (headers or {}).items()},
            "content-length": str(len(raw)),
        }
        for key, value in merged.items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (timeout tests)
            self.wfile.write(raw)

    def _error(self, status: int, error: str, message: str) -> None:
        self._send(status, xrpc_error(error, message))

    def _unavailable(self, status: int) -> None:
        errors = {500: "InternalServerError", 502: "UpstreamFailure", 503: "NotEnoughResources"}
        self._error(status, errors.get(status, "InternalServerError"), "Internal Server Error")

    def _drop(self) -> None:
        """Close the connection without an answer (the client sees it cut)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)

    def _body(self) -> Any:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return ValueError

    def _token(self) -> str:
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else ""

    def _caller(self) -> str:
        """Who the rate windows count: the token, else the address."""
        return self._token() or self.client_address[0]

    def _authed(self, *, scope: str = "access") -> str | None:
        """The DID the bearer token acts for; None after answering as the PDS does:
        401 AuthenticationRequired without a token, 401 InvalidToken for an unknown one,
        400 InvalidToken for the wrong kind, 400 ExpiredToken for an expired access token,
        401 ExpiredToken for a revoked refresh token."""
        token = self._token()
        if not token:
            self._error(401, "AuthenticationRequired", "Authentication Required")
            return None
        state = self.bsky
        with state.lock:
            access = state.access.get(token)
            refresh = state.refresh.get(token)
            now = state.now()
        entry = access if scope == "access" else refresh
        other = refresh if scope == "access" else access
        if entry is None and other is not None:
            self._error(400, "InvalidToken", "Bad token scope")
            return None
        if entry is None:
            if scope == "refresh" and token.count(".") == 2:
                self._error(401, "ExpiredToken", "Token has been revoked")
            else:
                self._error(401, "InvalidToken", "Token could not be verified")
            return None
        did, expires = entry
        if expires <= now:
            self._error(400, "ExpiredToken", "Token has expired")
            return None
        return did
