"""The Mastodon-compatible server's HTTP side: routing, rate windows, queued faults,
statuses (create, look up, delete) and the hashtag timeline. Apps, OAuth and the instance
are in accounts.py, streaming in stream.py."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from testservers.mastodon.accounts import AccountRoutes
from testservers.mastodon.render import status_json
from testservers.mastodon.stream import StreamRoutes
from testservers.mastodon.wire import Fault, status_length

ROUTES = {
    ("GET", "/api/v1/instance"): "instance_v1",
    ("GET", "/api/v2/instance"): "instance_v2",
    ("POST", "/api/v1/apps"): "app_create",
    ("GET", "/oauth/authorize"): "oauth_authorize",
    ("POST", "/oauth/token"): "oauth_token",
    ("GET", "/api/v1/accounts/verify_credentials"): "verify_credentials",
    ("POST", "/api/v1/statuses"): "status_create",
    ("GET", "/api/v2/search"): "search",
}
PATTERNS = [
    ("GET", re.compile(r"/api/v1/statuses/(\d+)"), "status_get"),
    ("DELETE", re.compile(r"/api/v1/statuses/(\d+)"), "status_delete"),
    ("GET", re.compile(r"/api/v1/timelines/tag/([^/]+)"), "tag_timeline"),
    ("GET", re.compile(r"/api/v1/streaming(/[a-z:]+)*"), "stream"),
]
NOT_RATE_LIMITED = {"stream", "oauth_authorize"}
DEFAULT_LIMIT, MAX_LIMIT = 20, 40


class Handler(AccountRoutes, StreamRoutes):
    """Routes each request, applies rate windows and queued faults, and serves statuses."""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path.rstrip("/") or "/", parse_qs(parts.query)
        payload = (
            self._body() if self.command != "GET" or self.headers.get("Content-Length") else None
        )
        with self.m.lock:
            self.m.requests.append((self.command, path, query, payload, dict(self.headers)))
        route, match = ROUTES.get((self.command, path)), None
        for method, pattern, name in PATTERNS if route is None else []:
            match = pattern.fullmatch(path)
            if method == self.command and match:
                route = name
                break
        self.rate_headers = {}
        if route is not None and route not in NOT_RATE_LIMITED:
            allowed, self.rate_headers = self.m.rate_take(self._token() or "anon")
            if not allowed:
                self._error(429, "Too many requests")
                return
        fault = self.m.fault_for(path)
        if fault is not None and not fault.after_create and self._fault(fault):
            return
        if route is None:
            self._error(404, "Record not found" if path.startswith("/api/") else "Not Found")
            return
        getattr(self, route)(path, query, payload, fault)

    do_GET = _handle
    do_POST = _handle
    do_DELETE = _handle

    def _fault(self, fault: Fault) -> bool:
        """Send the fault's answer; False when the request should then be served."""
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return False
        if fault.kind == "drop":
            self._drop()
            return True
        if fault.kind == "429":
            reset = time.strftime(
                "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self.m.now() + fault.reset_in)
            )
            headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
            self._error(429, "Too many requests", headers)
            return True
        if fault.kind in ("500", "502", "503"):
            self._send(
                int(fault.kind), b"<html><body><h1>We're sorry, but something went wrong.</h1>"
            )
            return True
        if fault.kind == "garbage":
            self._send(200, b'{"id": "1", "content": "<p>cut off')
            return True
        if fault.kind == "raw":
            raw = fault.body if isinstance(fault.body, bytes) else json.dumps(fault.body).encode()
            self._send(fault.status, raw, fault.headers)
            return True
        raise ValueError(f"unknown fault {fault.kind}")

    # Statuses ---------------------------------------------------------------------------

    def status_create(self, path: str, _: Any, payload: Any, fault: Fault | None) -> None:
        account = self._account()
        if account is None:
            return
        payload = payload if isinstance(payload, dict) else {}
        text = payload.get("status")
        text = text if isinstance(text, str) else ""
        key = self.headers.get("Idempotency-Key", "")
        with self.m.lock:
            earlier = self.m.idempotent(account, key) if key else None
            if earlier is not None:
                self._send(
                    200, status_json(self.m, earlier, with_source=False), route="status_create"
                )
                return
            reply = payload.get("in_reply_to_id") or None
            if reply and (not str(reply).isdigit() or int(reply) not in self.m.statuses):
                # Mastodon's StatusesController: the status replied to is not found.
                self._error(404, "The post you are trying to reply to does not appear to exist.")
                return
            refused = self._refused(text)
            if refused:
                self._error(422, refused)
                return
            sid = int(
                self.m.status_add(
                    account,
                    text,
                    in_reply_to_id=str(reply) if reply else None,
                    language=str(payload.get("language") or "en"),
                )
            )
            if key:
                self.m.idempotency[(account, key)] = (sid, self.m.now())
            body = status_json(self.m, sid)
        if fault is not None and fault.kind == "drop_after_create":
            self._drop()
            return
        if fault is not None and fault.kind == "503_after_create":
            self._send(503, b"<html><body><h1>Service Unavailable</h1>")
            return
        self._send(200, body, route="status_create")

    def _refused(self, text: str) -> str:
        """Mastodon's 422 message for a status it will not store, or ""."""
        if not text.strip():
            return "Validation failed: Text can't be blank"
        if status_length(text, self.m.url_weight) > self.m.max_characters:
            return f"Validation failed: Text character limit of {self.m.max_characters} exceeded"
        if any(word.lower() in text.lower() for word in self.m.banned_words):
            return self.m.banned_message
        return ""

    def status_get(self, path: str, _: Any, __: Any, ___: Any) -> None:
        if self._account(required=False) is None:
            return
        sid = int(path.rsplit("/", 1)[1])
        with self.m.lock:
            body = status_json(self.m, sid) if sid in self.m.statuses else None
        if body is None:
            self._error(404, "Record not found")
            return
        self._send(200, body, route="status_get")

    def status_delete(self, path: str, _: Any, __: Any, ___: Any) -> None:
        account = self._account()
        if account is None:
            return
        sid = int(path.rsplit("/", 1)[1])
        with self.m.lock:
            status = self.m.statuses.get(sid)
            if status is None:
                self._error(404, "Record not found")
                return
            if status["account_id"] != account:
                self._error(403, "This action is not allowed")
                return
            body = status_json(self.m, sid, with_source=True)
            self.m.status_remove(str(sid))
        self._send(200, body, route="status_delete")

    # The hashtag timeline ----------------------------------------------------------------

    def tag_timeline(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        """Newest first; max_id / since_id / min_id bound the ids (min_id answers the page
        just newer than it); a Link header points at the next (older) and prev (newer)."""
        if self._account(required=False) is None:
            return
        tag = unquote(path.rsplit("/", 1)[1]).lower()
        params = {k: v[0] for k, v in query.items()}
        try:
            bounds = {k: int(params[k]) for k in ("max_id", "since_id", "min_id") if params.get(k)}
            limit = int(params.get("limit") or DEFAULT_LIMIT)
        except ValueError:
            self._error(422, "Validation failed: invalid id")
            return
        limit = max(1, min(limit, MAX_LIMIT))
        low = max(bounds.get("since_id", 0), bounds.get("min_id", 0))
        high = bounds.get("max_id")
        with self.m.lock:
            ids = sorted(
                sid
                for sid, s in self.m.statuses.items()
                if sid > low
                and (high is None or sid < high)
                and tag in s["tags"]
                and self.m.listed(s)
                and (s["reblog_of"] is None or self.m.boosts_in_tags)
            )
            page = ids[:limit] if "min_id" in bounds else ids[-limit:]
            page.reverse()
            body = [status_json(self.m, sid) for sid in page]
        headers = {}
        if page:
            base = f"{self.m.base_url}/api/v1/timelines/tag/{quote(tag)}"
            headers["Link"] = (
                f'<{base}?max_id={page[-1]}>; rel="next", <{base}?min_id={page[0]}>; rel="prev"'
            )
        self._send(200, body, headers, route="tag_timeline")

    def search(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        """GET /api/v2/search?q=<a status's URI or URL>: that status, if this server has it."""
        if self._account(required=False) is None:
            return
        wanted = (query.get("q") or [""])[0]
        with self.m.lock:
            found = []
            for sid in self.m.statuses:
                rendered = status_json(self.m, sid)
                if wanted and wanted in (rendered["uri"], rendered["url"]):
                    found.append(rendered)
        self._send(200, {"accounts": [], "statuses": found, "hashtags": []}, route="search")
