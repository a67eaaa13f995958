"""The Bluesky-compatible server's state and its Python control surface (thread-safe).

One server plays the account's PDS (sessions, records), the AppView (search, profiles,
handles) and Jetstream (the websocket of commits). Bluesky's inconvenient behaviours are
switchable on the instance: `search_lag`, `rate_limits`, `access_lifetime` (tokens expire on
this server's clock, which `advance()` moves), `existing_rkey` (how a create with a taken
record key is answered) and queued faults (`fault_next`).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from typing import Any

from testservers.bluesky.handler import Handler
from testservers.bluesky.jetstream import Subscriber
from testservers.bluesky.wire import Fault, cid_for, iso_at, jwt_make, parse_iso, tid_encode

Validate = Callable[[str, int, Any], None]

APP_PASSWORD = "app-pass-word-1234"  # the accounts' app password unless a test names one
# Requests per window (seconds), per route and caller, as Bluesky's PDS and AppView count
# them; routes not named share the global 3000 per 5 minutes.
RATE_LIMITS: dict[str, tuple[int, int]] = {
    "com.atproto.server.createSession": (30, 300),
    "com.atproto.repo.createRecord": (1666, 3600),
    "*": (3000, 300),
}


class BlueskyEmulator:
    """The server's state and its Python control surface."""

    def __init__(self, *, validate: Validate | None = None, public_url: str = "") -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.validate = validate
        self.validation_errors: list[str] = []
        self.accounts: dict[str, dict[str, Any]] = {}  # did -> account
        self.access: dict[str, tuple[str, float]] = {}  # access token -> (did, exp)
        self.refresh: dict[str, tuple[str, float]] = {}  # refresh token -> (did, exp)
        self.posts: dict[str, dict[str, Any]] = {}  # at:// uri -> stored post
        self.events: list[tuple[int, dict[str, Any]]] = []  # Jetstream: (time_us, event)
        self.subscribers: list[Subscriber] = []
        self.faults: list[tuple[str, Fault]] = []
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.windows: dict[tuple[str, str], tuple[float, int]] = {}  # -> (start, used)
        self.server: ThreadingHTTPServer | None = None
        self.public_url = public_url
        self._last_us = 0
        # Bluesky's behaviours, each switchable.
        self.search_lag = 0.0  # seconds before a new post is found by searchPosts
        self.access_lifetime = 7200.0  # seconds an access token lives
        self.refresh_lifetime = 90 * 86400.0
        self.rate_limits = dict(RATE_LIMITS)
        # A create with a record key already taken: "400" (InvalidRequest, what this
        # server's brief asks for), "409" (RecordAlreadyExists, the error the lexicon is
        # gaining) or "500" (InternalServerError, what the reference PDS answered in 2025).
        self.existing_rkey = "400"
        self.clock_offset = 0.0

    # Time ----------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move this server's clock on (search lag, token expiry, rate windows)."""
        with self.lock:
            self.clock_offset += seconds

    def next_us(self) -> int:
        """A Jetstream time_us: this server's clock in microseconds, strictly increasing."""
        with self.lock:
            self._last_us = max(self._last_us + 1, int(self.now() * 1_000_000))
            return self._last_us

    # Rate windows --------------------------------------------------------------------

    def rate_take(self, route: str, caller: str) -> tuple[bool, dict[str, str]]:
        """Count one request of `caller` on `route`: (allowed, the ratelimit-* headers)."""
        with self.lock:
            limit, window = self.rate_limits.get(route) or self.rate_limits["*"]
            key = route if route in self.rate_limits else "*"
            now = self.now()
            start, used = self.windows.get((key, caller), (now, 0))
            if now >= start + window:
                start, used = now, 0
            allowed = used < limit
            used += allowed
            self.windows[(key, caller)] = (start, used)
            return allowed, {
                "ratelimit-limit": str(limit),
                "ratelimit-remaining": str(max(limit - used, 0)),
                "ratelimit-reset": str(int(start + window)),
                "ratelimit-policy": f"{limit};w={window}",
            }

    # Accounts and tokens -------------------------------------------------------------

    def account_add(
        self,
        handle: str,
        display_name: str = "",
        *,
        password: str = APP_PASSWORD,
        did: str | None = None,
        avatar: str | None = None,
    ) -> str:
        with self.lock:
            did = did or "did:plc:" + "".join(
                secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(24)
            )
            self.accounts[did] = {
                "did": did,
                "handle": handle,
                "displayName": display_name,
                "avatar": avatar
                if avatar is not None
                else f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkreiavatar@jpeg",
                "password": password,
                "createdAt": iso_at(self.now()),
            }
            return did

    def did_of(self, handle_or_did: str) -> str | None:
        with self.lock:
            if handle_or_did in self.accounts:
                return handle_or_did
            for did, account in self.accounts.items():
                if account["handle"].lower() == handle_or_did.lower().lstrip("@"):
                    return did
            return None

    def session_issue(self, did: str) -> tuple[str, str]:
        """A new access and refresh token for `did`, as createSession returns them."""
        with self.lock:
            now = self.now()
            access_exp = now + self.access_lifetime
            refresh_exp = now + self.refresh_lifetime
            access = jwt_make(
                {
                    "scope": "com.atproto.access",
                    "sub": did,
                    "iat": int(now),
                    "exp": int(access_exp),
                    "aud": "did:web:pds.test",
                },
                secrets.token_hex(16),
            )
            refresh = jwt_make(
                {
                    "scope": "com.atproto.refresh",
                    "sub": did,
                    "iat": int(now),
                    "exp": int(refresh_exp),
                    "jti": secrets.token_urlsafe(24),
                    "aud": "did:web:pds.test",
                },
                secrets.token_hex(16),
            )
            self.access[access] = (did, access_exp)
            self.refresh[refresh] = (did, refresh_exp)
            return access, refresh

    def tokens_expire(self, did: str) -> None:
        """Every access token of `did` has expired (refresh tokens still work)."""
        with self.lock:
            for token, (owner, _) in list(self.access.items()):
                if owner == did:
                    self.access[token] = (owner, self.now() - 1)

    def tokens_revoke(self, did: str) -> None:
        """The account's sessions are gone (app password revoked)."""
        with self.lock:
            self.access = {t: v for t, v in self.access.items() if v[0] != did}
            self.refresh = {t: v for t, v in self.refresh.items() if v[0] != did}

    # Posts ---------------------------------------------------------------------------

    def post_store(
        self, did: str, record: dict[str, Any], rkey: str | None = None
    ) -> dict[str, Any]:
        """Store a post record as the PDS does (no checks: a test may store what the PDS
        would refuse); it reaches search after `search_lag` s, Jetstream at once."""
        with self.lock:
            now = self.now()
            rkey = rkey or tid_encode(int(now * 1_000_000), secrets.randbelow(1024))
            uri = f"at://{did}/app.bsky.feed.post/{rkey}"
            post = {
                "uri": uri,
                "cid": cid_for(record),
                "did": did,
                "rkey": rkey,
                "record": record,
                "indexed_at": now + self.search_lag,
                "rev": tid_encode(int(now * 1_000_000), 7),
            }
            self.posts[uri] = post
            event = {
                "did": did,
                "time_us": self.next_us(),
                "kind": "commit",
                "commit": {
                    "rev": post["rev"],
                    "operation": "create",
                    "collection": "app.bsky.feed.post",
                    "rkey": rkey,
                    "record": record,
                    "cid": post["cid"],
                },
            }
            self.event_add(event)
            return post

    def post_add(
        self,
        did: str,
        text: str,
        *,
        created_at: datetime | None = None,
        tags: list[str] | None = None,
        facets: list[dict[str, Any]] | None = None,
        reply_to: str | None = None,
        langs: list[str] | None = None,
    ) -> str:
        """A post somebody on Bluesky wrote; returns its at:// URI. `tags` become #tag
        facets over the matching "#tag" in the text (or record tags when not in it)."""
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": iso_at(created_at.timestamp() if created_at else self.now()),
            "langs": langs or ["en"],
        }
        facets = list(facets or [])
        extra_tags = []
        raw = text.encode()
        for tag in tags or []:
            start = raw.find(f"#{tag}".encode())
            if start < 0:
                extra_tags.append(tag)
                continue
            end = start + len(f"#{tag}".encode())
            facets.append(
                {
                    "index": {"byteStart": start, "byteEnd": end},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
                }
            )
        if facets:
            record["facets"] = facets
        if extra_tags:
            record["tags"] = extra_tags
        if reply_to:
            with self.lock:
                parent = self.posts[reply_to]
                root = parent["record"].get("reply", {}).get("root") or {
                    "uri": reply_to,
                    "cid": parent["cid"],
                }
            record["reply"] = {"root": root, "parent": {"uri": reply_to, "cid": parent["cid"]}}
        return str(self.post_store(did, record)["uri"])

    def post_delete(self, uri: str) -> bool:
        """Delete a post: gone from search, and Jetstream says so."""
        with self.lock:
            post = self.posts.pop(uri, None)
            if post is None:
                return False
            self.event_add(
                {
                    "did": post["did"],
                    "time_us": self.next_us(),
                    "kind": "commit",
                    "commit": {
                        "rev": tid_encode(int(self.now() * 1_000_000), 8),
                        "operation": "delete",
                        "collection": "app.bsky.feed.post",
                        "rkey": post["rkey"],
                    },
                }
            )
            return True

    def searchable(self, post: dict[str, Any]) -> bool:
        return self.now() >= float(post["indexed_at"])

    @staticmethod
    def sort_at(post: dict[str, Any]) -> datetime:
        """The AppView's sortAt: the earlier of createdAt and indexedAt."""
        indexed = datetime.fromtimestamp(float(post["indexed_at"]), tz=UTC)
        created = parse_iso(post["record"].get("createdAt")) or indexed
        return min(created, indexed)

    @staticmethod
    def tags_of(record: dict[str, Any]) -> set[str]:
        found = {str(t).lower() for t in record.get("tags") or [] if isinstance(t, str)}
        for facet in record.get("facets") or []:
            for feature in facet.get("features") or [] if isinstance(facet, dict) else []:
                if isinstance(feature, dict) and feature.get("$type", "").endswith("#tag"):
                    found.add(str(feature.get("tag", "")).lower())
        return found

    # Jetstream -----------------------------------------------------------------------

    def event_add(self, event: dict[str, Any]) -> None:
        with self.lock:
            self.events.append((int(event["time_us"]), event))
            self.changed.notify_all()

    def jetstream_inject(self, raw: str) -> None:
        """Send `raw` as a text frame to every open subscriber (garbage tests)."""
        with self.lock:
            subscribers = list(self.subscribers)
        for subscriber in subscribers:
            subscriber.send_text(raw)

    def jetstream_drop(self) -> None:
        """Cut every open Jetstream connection (clients reconnect with their cursor)."""
        with self.lock:
            subscribers, self.subscribers = list(self.subscribers), []
            self.changed.notify_all()
        for subscriber in subscribers:
            subscriber.cut()

    # Faults and requests -------------------------------------------------------------

    def fault_next(self, path: str, kind: str, *, times: int = 1, **options: Any) -> None:
        """Answer the next `times` requests whose path starts with `path` with a fault
        (`path` may name the method alone: "com.atproto.repo.createRecord")."""
        if not path.startswith("/"):
            path = f"/xrpc/{path}"
        with self.lock:
            for _ in range(times):
                self.faults.append((path, Fault(kind=kind, **options)))

    def fault_for(self, path: str) -> Fault | None:
        with self.lock:
            for index, (prefix, fault) in enumerate(self.faults):
                if path.startswith(prefix):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    del self.faults[index]
                    return fault
        return None

    def requests_to(self, nsid: str) -> list[Any]:
        with self.lock:
            return [r for r in self.requests if r[1] == f"/xrpc/{nsid}"]

    # Serving -------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        emulator = self

        class Bound(Handler):
            bsky = emulator

        self.server = ThreadingHTTPServer((host, port), Bound)
        self.server.daemon_threads = True
        # A short poll so that stop() returns at once (tests start one server each).
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        url = f"http://{host}:{self.server.server_address[1]}"
        self.public_url = self.public_url or url
        return url

    @property
    def jetstream_url(self) -> str:
        return self.public_url.replace("http", "ws", 1) + "/subscribe"

    def stop(self) -> None:
        self.jetstream_drop()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
