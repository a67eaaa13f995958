"""The Bluesky-compatible server's HTTP side: routing of /xrpc/<nsid>, rate windows, queued
faults, and the session procedures. Records are in repo.py, the AppView's queries in
appview.py, Jetstream in jetstream.py."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from testservers.bluesky.appview import AppViewRoutes
from testservers.bluesky.jetstream import JetstreamRoutes
from testservers.bluesky.repo import RepoRoutes
from testservers.bluesky.wire import Fault

ROUTES = {
    ("POST", "com.atproto.server.createSession"): "create_session",
    ("POST", "com.atproto.server.refreshSession"): "refresh_session",
    ("POST", "com.atproto.repo.createRecord"): "create_record",
    ("POST", "com.atproto.repo.deleteRecord"): "delete_record",
    ("GET", "com.atproto.repo.getRecord"): "get_record",
    ("GET", "app.bsky.feed.searchPosts"): "search_posts",
    ("GET", "app.bsky.actor.getProfile"): "get_profile",
    ("GET", "com.atproto.identity.resolveHandle"): "resolve_handle",
}


class Handler(RepoRoutes, AppViewRoutes, JetstreamRoutes):
    """Routes each request, applies rate windows and queued faults, and serves it."""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        self.rate_headers = {}
        self.nsid = ""
        payload = self._body() if self.command == "POST" else None
        with self.bsky.lock:
            self.bsky.requests.append((self.command, path, query, payload))
        if path == "/subscribe" and self.command == "GET":
            self.subscribe(query)
            return
        if not path.startswith("/xrpc/"):
            self._error(404, "NotFound", f"no route {path}")
            return
        nsid = path[len("/xrpc/") :]
        allowed, self.rate_headers = self.bsky.rate_take(nsid, self._caller())
        if not allowed:
            self._too_many()
            return
        fault = self.bsky.fault_for(path)
        if fault is not None and not fault.after_create and self._fault(fault):
            return
        route = ROUTES.get((self.command, nsid))
        if route is None:
            self._error(501, "MethodNotImplemented", "Method Not Implemented")
            return
        self.nsid = nsid
        if payload is ValueError:
            self._error(400, "InvalidRequest", "Request body is not valid JSON")
            return
        getattr(self, route)(query, payload, fault)

    do_GET = _handle
    do_POST = _handle

    def _too_many(self, reset_in: int | None = None) -> None:
        headers = dict(self.rate_headers)
        headers["ratelimit-remaining"] = "0"
        if reset_in is not None:
            headers["ratelimit-reset"] = str(int(self.bsky.now()) + reset_in)
        self._send(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers)

    def _fault(self, fault: Fault) -> bool:
        """Send the fault's answer; False when the request should then be served."""
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return False
        if fault.kind == "drop":
            self._drop()
            return True
        if fault.kind == "429":
            self._too_many(fault.reset_in)
            return True
        if fault.kind in ("500", "502", "503"):
            self._unavailable(int(fault.kind))
            return True
        if fault.kind == "malformed":
            self._send(200, b'{"posts": [{"uri": "at://did:plc:cut')
            return True
        if fault.kind == "raw":
            raw = fault.body if isinstance(fault.body, bytes) else json.dumps(fault.body).encode()
            self._send(fault.status, raw, fault.headers)
            return True
        raise ValueError(f"unknown fault {fault.kind}")

    # Sessions --------------------------------------------------------------------------

    def _session_body(self, did: str, access: str, refresh: str) -> dict[str, Any]:
        with self.bsky.lock:
            account = self.bsky.accounts[did]
        return {
            "did": did,
            "handle": account["handle"],
            "accessJwt": access,
            "refreshJwt": refresh,
            "active": True,
        }

    def create_session(self, _: Any, payload: Any, __: Any) -> None:
        payload = payload if isinstance(payload, dict) else {}
        for name in ("identifier", "password"):
            if not isinstance(payload.get(name), str):
                self._error(400, "InvalidRequest", f'Input must have the property "{name}"')
                return
        did = self.bsky.did_of(payload["identifier"])
        with self.bsky.lock:
            account = self.bsky.accounts.get(did or "")
        if account is None or account["password"] != payload["password"]:
            self._error(401, "AuthenticationRequired", "Invalid identifier or password")
            return
        assert did is not None
        self._send(200, self._session_body(did, *self.bsky.session_issue(did)))

    def refresh_session(self, _: Any, __: Any, ___: Any) -> None:
        """The refresh token is used up: each refresh rotates both tokens."""
        did = self._authed(scope="refresh")
        if did is None:
            return
        with self.bsky.lock:
            self.bsky.refresh.pop(self._token(), None)
        self._send(200, self._session_body(did, *self.bsky.session_issue(did)))
