"""The Mastodon-compatible server's HTTP plumbing that every route shares: answers
(checked against the documented entities when the test asks), request bodies, tokens."""

from __future__ import annotations

import contextlib
import json
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from testservers.mastodon.wire import error

if TYPE_CHECKING:
    from testservers.mastodon.state import MastodonEmulator


class Plumbing(BaseHTTPRequestHandler):
    m: MastodonEmulator
    protocol_version = "HTTP/1.1"
    rate_headers: dict[str, str]

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(
        self, status: int, body: Any, headers: dict[str, str] | None = None, route: str = ""
    ) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        if route and not isinstance(body, bytes) and self.m.validate is not None:
            try:
                self.m.validate(self.command, route, status, body)
            except Exception as exc:
                self.m.validation_errors.append(f"{self.command} {route} {status}: {exc}")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in {**getattr(self, "rate_headers", {}), **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (timeout tests)
            self.wfile.write(raw)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, error(message), headers)

    def _drop(self) -> None:
        """Close the connection without an answer (the client sees it cut)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)

    def _body(self) -> Any:
        """The request's parameters: a JSON object or a form (Mastodon takes both)."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if "json" in self.headers.get("Content-Type", ""):
            try:
                return json.loads(raw or b"null")
            except ValueError:
                return None
        return {k: v[0] for k, v in parse_qs(raw.decode(errors="replace")).items()}

    def _token(self) -> str:
        auth = self.headers.get("Authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else ""

    def _account(self, *, required: bool = True) -> str | None:
        """The token's account id; "" for no token when not `required`; None after
        answering 401 (a bad, revoked or missing token)."""
        token = self._token()
        if not token and not required:
            return ""
        if not token:
            self._error(401, "The access token is invalid")
            return None
        account, reason = self.m.token_account(token)
        if account is None:
            self._error(401, reason)
        return account
