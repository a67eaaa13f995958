"""The Mastodon-compatible server's state and its Python control surface (thread-safe).

Mastodon's inconvenient behaviours are on by default where they cost a test nothing
(HTML content, boosts in tag timelines, the 500-character limit, rate windows) and switched
on by a test where they take time (`timeline_lag`) or are a choice of the instance
(`banned_words`).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any

from testservers.mastodon.handler import Handler
from testservers.mastodon.render import status_json
from testservers.mastodon.wire import Fault, hashtags

Validate = Callable[[str, str, int, Any], None]
IDEMPOTENCY_WINDOW = 3600.0  # Mastodon keeps an Idempotency-Key for an hour
BANNED = "Validation failed: Text contains a word this server does not allow"


class MastodonEmulator:
    """The server's state and its Python control surface."""

    def __init__(self, *, validate: Validate | None = None, domain: str = "") -> None:
        self.lock = threading.RLock()
        self.validate = validate
        self.validation_errors: list[str] = []
        self.domain = domain  # LOCAL_DOMAIN; the host:port it listens on when empty
        self.base_url = ""
        self.server: ThreadingHTTPServer | None = None
        self.accounts: dict[str, dict[str, Any]] = {}
        self.apps: dict[str, dict[str, Any]] = {}  # client_id -> the app
        self.codes: dict[str, tuple[str, str, str, str]] = {}  # code -> client, uri, acct, scope
        self.tokens: dict[str, tuple[str, str, float]] = {}  # token -> account, scope, created
        self.revoked: set[str] = set()
        self.statuses: dict[int, dict[str, Any]] = {}
        self.idempotency: dict[tuple[str, str], tuple[int, float]] = {}
        self.faults: list[tuple[str, Fault]] = []
        self.requests: list[tuple[str, str, dict[str, list[str]], Any, dict[str, str]]] = []
        # For streams: (event, the tags it is listed under, its data as sent then).
        self.events: list[tuple[str, list[str], str]] = []
        self.stream_changed = threading.Condition(self.lock)
        self.streams_open = 0
        self._closing = False
        self._next_id = 0
        self.consenting_user = ""
        self.windows: dict[str, tuple[float, int]] = {}  # token or "anon" -> (start, used)
        self.clock_offset = 0.0
        # The instance's choices and Mastodon's behaviours, each switchable.
        self.title = "Mastodon-compatible test server"
        self.version = "4.5.0"
        self.api_version = 7
        self.max_characters = 500
        self.url_weight = 23
        self.banned_words: list[str] = []
        self.banned_message = BANNED
        self.timeline_lag = 0.0  # seconds before a new status reaches tag timelines
        self.boosts_in_tags = True  # a boost of a tagged status appears in the tag timeline
        self.rate_limit = 300  # requests per token (or per anonymous client) per window
        self.rate_window = 300.0

    # Running --------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on a background thread; returns the base URL."""
        emulator = self

        class BoundHandler(Handler):
            m = emulator

        self.server = ThreadingHTTPServer((host, port), BoundHandler)
        self.server.daemon_threads = True
        bound = f"{host}:{self.server.server_address[1]}"
        self.domain = self.domain or bound
        self.base_url = f"http://{bound}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self.base_url

    def stop(self) -> None:
        self.streams_close()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def streams_close(self) -> None:
        """End every open streaming connection (clients see the stream end)."""
        with self.lock:
            self._closing = True
            self.stream_changed.notify_all()
        deadline = time.time() + 3
        while self.streams_open and time.time() < deadline:
            time.sleep(0.02)
        with self.lock:
            self._closing = False

    # Time -----------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move this server's clock on (timeline lag, rate windows, idempotency keys)."""
        with self.lock:
            self.clock_offset += seconds

    def rate_take(self, who: str) -> tuple[bool, dict[str, str]]:
        """Count one request: (allowed, Mastodon's X-RateLimit-* headers, the reset as an
        ISO 8601 time as Mastodon sends it)."""
        with self.lock:
            now = self.now()
            start, used = self.windows.get(who, (now, 0))
            if now >= start + self.rate_window:
                start, used = now, 0
            allowed = used < self.rate_limit
            used += allowed
            self.windows[who] = (start, used)
            reset = datetime.fromtimestamp(start + self.rate_window, tz=UTC)
            return allowed, {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": str(max(self.rate_limit - used, 0)),
                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            }

    # Faults ---------------------------------------------------------------------------

    def fault_next(self, path_prefix: str, fault: Fault | str) -> None:
        """The next request whose path starts with `path_prefix` gets `fault`."""
        with self.lock:
            self.faults.append((path_prefix, Fault(fault) if isinstance(fault, str) else fault))

    def fault_for(self, path: str) -> Fault | None:
        with self.lock:
            for i, (prefix, fault) in enumerate(self.faults):
                if path.startswith(prefix):
                    del self.faults[i]
                    return fault
        return None

    # Accounts and tokens --------------------------------------------------------------

    def account_add(self, username: str, display_name: str = "", domain: str = "") -> str:
        """A local account, or one of another server (`domain`) whose statuses arrived
        here by federation. The first local account consents at /oauth/authorize."""
        with self.lock:
            account_id = str(100 + len(self.accounts) + 1)
            self.accounts[account_id] = {
                "id": account_id,
                "username": username,
                "display_name": display_name or username,
                "domain": domain,
                "created_at": datetime.now(tz=UTC).replace(hour=0, minute=0, second=0),
            }
            if not domain and not self.consenting_user:
                self.consenting_user = account_id
            return account_id

    def token_add(self, account_id: str, scope: str = "read write") -> str:
        with self.lock:
            token = secrets.token_urlsafe(24)
            self.tokens[token] = (account_id, scope, self.now())
            return token

    def tokens_revoke(self, account_id: str | None = None) -> None:
        """Revoke every token (of one account): Mastodon answers 401 to them."""
        with self.lock:
            for token, (owner, _, _) in self.tokens.items():
                if account_id is None or owner == account_id:
                    self.revoked.add(token)

    def token_account(self, token: str) -> tuple[str | None, str]:
        """(the token's account, or None with Mastodon's reason)."""
        with self.lock:
            entry = self.tokens.get(token)
            if entry is None:
                return None, "The access token is invalid"
            if token in self.revoked:
                return None, "The access token was revoked"
            return entry[0], ""

    # Statuses -------------------------------------------------------------------------

    def status_add(
        self,
        account_id: str,
        text: str,
        *,
        in_reply_to_id: str | None = None,
        language: str = "en",
        lag: float | None = None,
    ) -> str:
        """Store a status as posted (no checks) and announce it to streams."""
        with self.lock:
            now = self.now()
            # Mastodon's ids: milliseconds since the epoch, shifted 16 bits, plus a sequence.
            self._next_id = max(self._next_id + 1, int(now * 1000) << 16)
            sid = self._next_id
            self.statuses[sid] = {
                "id": sid,
                "account_id": account_id,
                "text": text,
                "created_at": datetime.fromtimestamp(now, tz=UTC),
                "edited_at": None,
                "in_reply_to_id": in_reply_to_id,
                "reblog_of": None,
                "language": language,
                "tags": hashtags(text),
                "visible_at": now + (self.timeline_lag if lag is None else lag),
            }
            self._announce("update", sid)
            return str(sid)

    def status_boost(self, account_id: str, status_id: str) -> str:
        with self.lock:
            original = self.statuses[int(status_id)]
            sid = int(self.status_add(account_id, "", language=original["language"]))
            self.statuses[sid]["reblog_of"] = int(status_id)
            self.statuses[sid]["tags"] = list(original["tags"])
            return str(sid)

    def status_edit(self, status_id: str, text: str) -> None:
        with self.lock:
            status = self.statuses[int(status_id)]
            status.update(text=text, tags=hashtags(text))
            status["edited_at"] = datetime.fromtimestamp(self.now(), tz=UTC)
            self._announce("status.update", int(status_id))

    def status_remove(self, status_id: str) -> None:
        """Delete a status (and the boosts of it), as its author or a moderator would."""
        with self.lock:
            sid = int(status_id)
            gone = [sid] + [k for k, s in self.statuses.items() if s["reblog_of"] == sid]
            for key in gone:
                if key in self.statuses:
                    self._announce("delete", key)
                    del self.statuses[key]

    def _announce(self, event: str, status_id: int) -> None:
        """Streams send what the status was when this happened (Mastodon renders once)."""
        status = self.statuses[status_id]
        data = str(status_id) if event == "delete" else json.dumps(status_json(self, status_id))
        self.events.append((event, list(status["tags"]), data))
        self.stream_changed.notify_all()

    def idempotent(self, account_id: str, key: str) -> int | None:
        """The status an earlier create with the same Idempotency-Key made, within the hour."""
        with self.lock:
            found = self.idempotency.get((account_id, key))
            if found is None or found[1] + IDEMPOTENCY_WINDOW < self.now():
                return None
            return found[0] if found[0] in self.statuses else None

    def listed(self, status: dict[str, Any]) -> bool:
        return bool(status["visible_at"] <= self.now())
