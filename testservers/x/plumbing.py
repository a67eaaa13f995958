"""The X-compatible server's HTTP plumbing that every route shares: answers (checked
against X's schemas when the test asks), tokens, rendering posts as X renders them."""

from __future__ import annotations

import contextlib
import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from testservers.x.wire import x_escape

if TYPE_CHECKING:
    from testservers.x.state import XEmulator


class Plumbing(BaseHTTPRequestHandler):
    x: XEmulator
    protocol_version = "HTTP/1.1"
    rate_headers: dict[str, str]

    def log_message(self, format: str, *args: Any) -> None:
        return

    # Plumbing --------------------------------------------------------------------------

    def _send(
        self, status: int, body: Any, headers: dict[str, str] | None = None, route: str = ""
    ) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        if route and not isinstance(body, bytes) and self.x.validate is not None:
            try:
                self.x.validate(self.command, route, status, body)
            except Exception as exc:
                self.x.validation_errors.append(f"{self.command} {route} {status}: {exc}")
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(raw)))
        for key, value in {**getattr(self, "rate_headers", {}), **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (timeout tests)
            self.wfile.write(raw)

    def _drop(self) -> None:
        """Close the connection without an answer (the client sees it cut)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)

    def _body(self) -> tuple[bytes, Any]:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("content-type", "")
        if "json" in ctype:
            try:
                return raw, json.loads(raw or b"null")
            except ValueError:
                return raw, None
        return raw, {k: v[0] for k, v in parse_qs(raw.decode()).items()}

    def _token(self) -> str:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else ""

    def _bearer_user(self) -> str | None:
        """ "" for the app's bearer token, the user id for a user's token, else None."""
        token = self._token()
        with self.x.lock:
            if token in self.x.app_bearers:
                return ""
            entry = self.x.access.get(token)
        if entry is None or entry[1] < time.time():
            return None
        return entry[0]

    def _unauthorized(self) -> None:
        self._send(
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
        )

    # Rendering -------------------------------------------------------------------------

    def _render(self, tweet: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        """The post with the fields asked for, its text escaped as X escapes it. Field
        names follow X's current spec (referenced_posts, repost_count …); `legacy_names`
        answers with the older v2 names (referenced_tweets, retweet_count …)."""
        wanted = fields | {"id", "text", "edit_history_post_ids", "withheld"}
        if "referenced_tweets" in fields:
            wanted.add("referenced_posts")
        out = {k: v for k, v in tweet.items() if k in wanted or k.startswith("x_unknown")}
        if self.x.escape_text:
            out["text"] = x_escape(str(out["text"]))
        if self.x.legacy_names:
            renames = {
                "referenced_posts": "referenced_tweets",
                "edit_history_post_ids": "edit_history_tweet_ids",
            }
            out = {renames.get(k, k): v for k, v in out.items()}
            if "public_metrics" in out:
                metrics = dict(out["public_metrics"])
                metrics["retweet_count"] = metrics.pop("repost_count", 0)
                out["public_metrics"] = metrics
        return out

    def _fields(self, query: dict[str, list[str]]) -> set[str]:
        asked = query.get("tweet.fields", []) + query.get("post.fields", [])
        return set(",".join(asked).split(","))

    def _users(self, ids: list[str], fields: set[str]) -> list[dict[str, Any]]:
        users = []
        for uid in dict.fromkeys(ids):
            user = self.x.users.get(uid)
            if user is not None:
                users.append(
                    {k: v for k, v in user.items() if k in fields | {"id", "name", "username"}}
                )
        return users
