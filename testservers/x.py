"""An X-compatible HTTP server for tests and staging, speaking X API v2 JSON.

    python -m testservers.x --port 8765
    X_API_BASE_URL=http://127.0.0.1:8765 X_CLIENT_ID=staging X_BEARER_TOKEN=app …

Endpoints: GET /2/tweets/search/recent, POST /2/tweets, GET /2/tweets/:id, GET /2/users/me,
POST /2/oauth2/token (authorization_code with PKCE S256, refresh_token with rotation),
GET /i/oauth2/authorize (consents at once as `consenting_user`). Tests drive it through
the Python API (`user_add`, `tweet_add`, `fault_next`, `tokens_revoke` …) and may pass a
`validate` callable that checks every JSON answer against X's OpenAPI schemas.

Faults, queued per path prefix: status 429 (with x-rate-limit-* headers), 500, 503,
"malformed" (a body that is not JSON), "slow" (answer after `delay` seconds) and
"slow_after_create" (the post is created, then the answer comes too late), or "raw"
(any status, headers and body, for partial or odd answers).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from twitter_text import parse_tweet

HASHTAG_RE = re.compile(r"(?<![\w&])[#＃](\w+)", re.UNICODE)
URL_RE = re.compile(r"https?://[^\s]+")
Validate = Callable[[str, str, int, Any], None]


@dataclass
class Fault:
    kind: str
    delay: float = 0.0
    reset_in: int = 60
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    skip: int = 0  # let this many matching requests through first


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _problem(status: int, title: str, detail: str, kind: str = "invalid-request") -> Any:
    return {
        "errors": [{"message": detail, "parameters": {}}],
        "title": title,
        "detail": detail,
        "type": f"https://api.x.com/2/problems/{kind}",
        "status": status,
    }


class XEmulator:
    """The server's state and its Python control surface. Thread-safe."""

    def __init__(self, *, validate: Validate | None = None, client_id: str = "") -> None:
        self.lock = threading.RLock()
        self.validate = validate
        self.client_id = client_id
        self.users: dict[str, dict[str, Any]] = {}
        self.tweets: dict[int, dict[str, Any]] = {}
        self.access: dict[str, tuple[str, float]] = {}
        self.refresh: dict[str, str] = {}
        self.codes: dict[str, tuple[str, str, str]] = {}
        self.app_bearers: set[str] = set()
        self.faults: list[tuple[str, Fault]] = []
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.rate_remaining = 450
        self.rate_limit = 450
        self.token_lifetime = 7200
        self.consenting_user = ""
        self.legacy_names = False
        self.validation_errors: list[str] = []
        self._next_id = 1_800_000_000_000_000_000
        self.rules: dict[str, dict[str, str]] = {}
        self.stream_changed = threading.Condition(self.lock)
        self.stream_open = False
        self.server: ThreadingHTTPServer | None = None

    # Control surface -----------------------------------------------------------------

    def user_add(self, username: str, name: str = "", user_id: str | None = None) -> str:
        with self.lock:
            uid = user_id or str(1000 + len(self.users) + 1)
            self.users[uid] = {
                "id": uid,
                "username": username,
                "name": name or username,
                "profile_image_url": f"https://pbs.twimg.com/profile_images/{uid}/a_normal.jpg",
            }
            if not self.consenting_user:
                self.consenting_user = uid
            return uid

    def bearer_add(self, token: str) -> None:
        with self.lock:
            self.app_bearers.add(token)

    def token_issue(self, user_id: str, *, lifetime: int | None = None) -> tuple[str, str]:
        with self.lock:
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            self.access[access] = (user_id, time.time() + (lifetime or self.token_lifetime))
            self.refresh[refresh] = user_id
            return access, refresh

    def tokens_expire(self, user_id: str) -> None:
        with self.lock:
            for token, (uid, _) in list(self.access.items()):
                if uid == user_id:
                    self.access[token] = (uid, time.time() - 1)

    def tokens_revoke(self, user_id: str) -> None:
        with self.lock:
            self.access = {t: v for t, v in self.access.items() if v[0] != user_id}
            self.refresh = {t: u for t, u in self.refresh.items() if u != user_id}

    def tweet_add(
        self,
        author_id: str,
        text: str,
        *,
        created_at: datetime | None = None,
        reply_to: str | None = None,
        retweet_of: str | None = None,
        lang: str = "en",
        urls: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Store a tweet as X would: URLs wrapped as t.co links with `urls` mapping each
        t.co URL in `text` to its expanded form (or generated from bare URLs)."""
        with self.lock:
            self._next_id += 1 + secrets.randbelow(1000)
            tid = self._next_id
            entities: dict[str, Any] = {}
            if urls is None:
                urls = {}
                for match in URL_RE.findall(text):
                    short = f"https://t.co/{secrets.token_hex(5)}"
                    urls[short] = match
                    text = text.replace(match, short, 1)
            url_entities = []
            for short, expanded in urls.items():
                start = text.find(short)
                if start < 0:
                    continue
                url_entities.append(
                    {
                        "start": start,
                        "end": start + len(short),
                        "url": short,
                        "expanded_url": expanded,
                        "display_url": expanded.split("://", 1)[-1][:26],
                    }
                )
            if url_entities:
                entities["urls"] = url_entities
            tags = [
                {"start": m.start(), "end": m.end(), "tag": m.group(1)}
                for m in HASHTAG_RE.finditer(text)
            ]
            if tags:
                entities["hashtags"] = tags
            tweet: dict[str, Any] = {
                "id": str(tid),
                "text": text,
                "author_id": author_id,
                "created_at": _iso(created_at or datetime.now(tz=UTC)),
                "conversation_id": str(tid),
                "lang": lang,
                "edit_history_post_ids": [str(tid)],
                "public_metrics": {
                    "repost_count": 0,
                    "reply_count": 0,
                    "like_count": 0,
                    "quote_count": 0,
                    "bookmark_count": 0,
                    "impression_count": 0,
                },
            }
            if entities:
                tweet["entities"] = entities
            if reply_to:
                parent = self.tweets.get(int(reply_to))
                tweet["referenced_posts"] = [{"type": "replied_to", "id": reply_to}]
                tweet["conversation_id"] = parent["conversation_id"] if parent else reply_to
            if retweet_of:
                tweet["referenced_posts"] = [{"type": "retweeted", "id": retweet_of}]
            tweet.update(extra or {})
            self.tweets[tid] = tweet
            self.stream_changed.notify_all()
            return str(tid)

    def tweet_delete(self, tweet_id: str) -> None:
        with self.lock:
            self.tweets.pop(int(tweet_id), None)

    def tweets_by(self, author_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [t for t in self.tweets.values() if t["author_id"] == author_id]

    def fault_next(self, path: str, kind: str, *, times: int = 1, **options: Any) -> None:
        """Answer the next `times` requests whose path starts with `path` with a fault."""
        with self.lock:
            for _ in range(times):
                self.faults.append((path, Fault(kind=kind, **options)))

    def requests_to(self, path: str, method: str | None = None) -> list[Any]:
        with self.lock:
            return [r for r in self.requests if r[1] == path and (method in (None, r[0]))]

    # Serving -------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        emulator = self

        class Handler(_Handler):
            x = emulator

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://{host}:{self.server.server_address[1]}"

    def stream_close(self) -> None:
        """End open filtered-stream connections (X does this now and then)."""
        with self.lock:
            self.stream_open = False
            self.stream_changed.notify_all()

    def stop(self) -> None:
        self.stream_close()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def _fault_for(self, path: str) -> Fault | None:
        with self.lock:
            for index, (prefix, fault) in enumerate(self.faults):
                if path.startswith(prefix):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    del self.faults[index]
                    return fault
        return None


class _Handler(BaseHTTPRequestHandler):
    x: XEmulator
    protocol_version = "HTTP/1.1"

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
        with self.x.lock:
            limit, remaining = self.x.rate_limit, self.x.rate_remaining
        all_headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(time.time()) + 900),
            **(headers or {}),
        }
        for key, value in all_headers.items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (timeout tests)
            self.wfile.write(raw)

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

    def _bearer_user(self) -> str | None:
        auth = self.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
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

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        _raw, payload = self._body() if self.command == "POST" else (b"", None)
        with self.x.lock:
            self.x.requests.append((self.command, path, query, payload))
        fault = self.x._fault_for(path)
        if fault is not None and fault.kind != "slow_after_create" and self._fault(fault):
            return
        route = self._route(path)
        if route is None:
            self._send(404, _problem(404, "Not Found", f"no route {path}", "resource-not-found"))
            return
        getattr(self, route)(path, query, payload, fault)

    def _fault(self, fault: Fault) -> bool:
        """Send the fault's answer; False when the request should then be served."""
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return False
        if fault.kind == "429":
            reset = int(time.time()) + fault.reset_in
            body = {
                "title": "Too Many Requests",
                "detail": "Too Many Requests",
                "type": "about:blank",
                "status": 429,
            }
            self._send(
                429,
                body,
                {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
            )
            return True
        if fault.kind in ("500", "503"):
            status = int(fault.kind)
            self._send(
                status,
                {
                    "title": "Service Unavailable",
                    "detail": "Service Unavailable",
                    "type": "about:blank",
                    "status": status,
                },
            )
            return True
        if fault.kind == "malformed":
            self._send(200, b'{"data": [{"id": "1", "text": "cut off')
            return True
        if fault.kind == "raw":
            raw = fault.body if isinstance(fault.body, bytes) else json.dumps(fault.body).encode()
            self._send(fault.status, raw, fault.headers)
            return True
        raise ValueError(f"unknown fault {fault.kind}")

    def _route(self, path: str) -> str | None:
        routes = {
            ("GET", "/2/tweets/search/recent"): "search_recent",
            ("POST", "/2/tweets"): "tweet_create",
            ("GET", "/2/users/me"): "users_me",
            ("POST", "/2/oauth2/token"): "oauth_token",
            ("GET", "/i/oauth2/authorize"): "oauth_authorize",
            ("GET", "/2/tweets/search/stream"): "stream",
            ("GET", "/2/tweets/search/stream/rules"): "rules_get",
            ("POST", "/2/tweets/search/stream/rules"): "rules_update",
        }
        if (self.command, path) in routes:
            return routes[(self.command, path)]
        if self.command == "GET" and re.fullmatch(r"/2/tweets/\d+", path):
            return "tweet_get"
        return None

    do_GET = _handle
    do_POST = _handle

    # Endpoints -------------------------------------------------------------------------

    def _render(self, tweet: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        """The tweet with the fields asked for. Field names follow X's current spec
        (referenced_posts, repost_count …); `legacy_names` answers with the older v2
        names (referenced_tweets, retweet_count …) that X documented before."""
        wanted = fields | {"id", "text", "edit_history_post_ids", "withheld"}
        if "referenced_tweets" in fields:
            wanted.add("referenced_posts")
        out = {k: v for k, v in tweet.items() if k in wanted or k.startswith("x_unknown")}
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

    def search_recent(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        if self._bearer_user() is None:
            self._unauthorized()
            return
        q = (query.get("query") or [""])[0]
        try:
            max_results = int((query.get("max_results") or ["10"])[0])
        except ValueError:
            max_results = 0
        if not 10 <= max_results <= 100:
            self._send(
                400,
                _problem(400, "Invalid Request", "max_results must be between 10 and 100"),
                route="search_recent",
            )
            return
        since_id = int((query.get("since_id") or ["0"])[0] or 0)
        until_id = 0
        token = (query.get("next_token") or [""])[0]
        if token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                since_id, until_id = int(decoded["s"]), int(decoded["u"])
            except (ValueError, KeyError, TypeError):
                self._send(400, _problem(400, "Invalid Request", "next_token is invalid"))
                return
        terms = q.split()
        with self.x.lock:
            self.x.rate_remaining = max(0, self.x.rate_remaining - 1)
            matches = [
                t
                for tid, t in sorted(self.x.tweets.items(), reverse=True)
                if tid > since_id and (not until_id or tid < until_id) and self._matches(t, terms)
            ]
            page, rest = matches[:max_results], matches[max_results:]
            fields = self._fields(query)
            user_fields = set(",".join(query.get("user.fields", [])).split(","))
            body: dict[str, Any] = {"meta": {"result_count": len(page)}}
            if page:
                body["data"] = [self._render(t, fields) for t in page]
                body["meta"]["newest_id"] = page[0]["id"]
                body["meta"]["oldest_id"] = page[-1]["id"]
                if "author_id" in ",".join(query.get("expansions", [])):
                    users = self._users([t["author_id"] for t in page], user_fields)
                    if users:
                        body["includes"] = {"users": users}
            if rest:
                body["meta"]["next_token"] = base64.urlsafe_b64encode(
                    json.dumps({"s": since_id, "u": int(page[-1]["id"])}).encode()
                ).decode()
        self._send(200, body, route="search_recent")

    def _matches(self, tweet: dict[str, Any], terms: list[str]) -> bool:
        text = tweet["text"].lower()
        tags = {t.lower() for t in HASHTAG_RE.findall(tweet["text"])}
        for term in terms:
            low = term.lower()
            if low == "-is:retweet":
                refs = tweet.get("referenced_posts") or []
                if any(r.get("type") == "retweeted" for r in refs):
                    return False
            elif low.startswith("from:"):
                user = self.x.users.get(tweet["author_id"], {})
                if user.get("username", "").lower() != low[5:]:
                    return False
            elif low.startswith("#"):
                if low[1:] not in tags:
                    return False
            elif low not in text:
                return False
        return True

    def tweet_create(self, path: str, _: Any, payload: Any, fault: Fault | None) -> None:
        user_id = self._bearer_user()
        if not user_id:
            self._unauthorized()
            return
        text = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(text, str) or not text.strip():
            self._send(
                400, _problem(400, "Invalid Request", "text is required"), route="tweet_create"
            )
            return
        if not parse_tweet(text).valid:
            self._send(
                400,
                _problem(400, "Invalid Request", "Your Post text is too long."),
                route="tweet_create",
            )
            return
        if isinstance(payload.get("reply"), dict):
            self._send(
                403,
                _problem(
                    403,
                    "Forbidden",
                    "Reply to this conversation is not allowed because you have not been mentioned "
                    "or otherwise engaged by the author of the post you are replying to.",
                    "disallowed-resource",
                ),
            )
            return
        with self.x.lock:
            duplicate = any(
                t["author_id"] == user_id and self._plain(t) == text for t in self.x.tweets.values()
            )
            if duplicate:
                detail = "You are not allowed to create a Tweet with duplicate content."
                self._send(
                    403,
                    {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403},
                )
                return
            tid = self.x.tweet_add(user_id, text)
            stored = self.x.tweets[int(tid)]
        if fault is not None and fault.kind == "slow_after_create":
            time.sleep(fault.delay)
        self._send(
            201,
            {"data": {"id": tid, "text": stored["text"], "edit_history_post_ids": [tid]}},
            route="tweet_create",
        )

    def _plain(self, tweet: dict[str, Any]) -> str:
        text = tweet["text"]
        for url in (tweet.get("entities") or {}).get("urls", []):
            text = text.replace(url["url"], url["expanded_url"])
        return text

    def tweet_get(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        if self._bearer_user() is None:
            self._unauthorized()
            return
        tid = path.rsplit("/", 1)[1]
        with self.x.lock:
            tweet = self.x.tweets.get(int(tid))
        if tweet is None:
            body = {
                "errors": [
                    {
                        "value": tid,
                        "detail": f"Could not find tweet with id: [{tid}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "id",
                        "resource_id": tid,
                        "type": "https://api.x.com/2/problems/resource-not-found",
                    }
                ]
            }
            self._send(200, body, route="tweet_get")
            return
        fields = self._fields(query)
        self._send(200, {"data": self._render(tweet, fields)}, route="tweet_get")

    def rules_get(self, path: str, _: Any, __: Any, ___: Any) -> None:
        if self._bearer_user() != "":
            self._unauthorized()
            return
        with self.x.lock:
            rules = list(self.x.rules.values())
        body: dict[str, Any] = {
            "meta": {"sent": _iso(datetime.now(tz=UTC)), "result_count": len(rules)}
        }
        if rules:
            body["data"] = rules
        self._send(200, body, route="rules_get")

    def rules_update(self, path: str, _: Any, payload: Any, __: Any) -> None:
        if self._bearer_user() != "":
            self._unauthorized()
            return
        payload = payload if isinstance(payload, dict) else {}
        created: list[dict[str, str]] = []
        deleted = 0
        with self.x.lock:
            for rule in payload.get("add") or []:
                self.x._next_id += 1
                entry = {"id": str(self.x._next_id), "value": str(rule.get("value", ""))}
                if rule.get("tag"):
                    entry["tag"] = str(rule["tag"])
                self.x.rules[entry["id"]] = entry
                created.append(entry)
            for rule_id in (payload.get("delete") or {}).get("ids") or []:
                deleted += self.x.rules.pop(str(rule_id), None) is not None
        summary = {"created": len(created), "not_created": 0, "valid": len(created), "invalid": 0}
        if deleted:
            summary = {"deleted": deleted, "not_deleted": 0}
        body: dict[str, Any] = {"meta": {"sent": _iso(datetime.now(tz=UTC)), "summary": summary}}
        if created:
            body["data"] = created
        self._send(200, body, route="rules_update")

    def stream(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        """Line-delimited JSON: each new tweet that matches a rule, with the rules it
        matched; an empty line as keep-alive every second. Open until stream_close()."""
        if self._bearer_user() != "":
            self._unauthorized()
            return
        self.send_response(200)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("connection", "close")
        # Chunked, as X streams: each write reaches the client at once.
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        fields = self._fields(query)
        user_fields = set(",".join(query.get("user.fields", [])).split(","))
        with self.x.lock:
            self.x.stream_open = True
            seen = max(self.x.tweets, default=0)
        try:
            while True:
                lines: list[bytes] = []
                with self.x.lock:
                    self.x.stream_changed.wait(timeout=1.0)
                    if not self.x.stream_open:
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    for tid in sorted(t for t in self.x.tweets if t > seen):
                        seen = tid
                        tweet = self.x.tweets[tid]
                        matched = [
                            {"id": r["id"], "tag": r.get("tag", "")}
                            for r in self.x.rules.values()
                            if self._matches(tweet, r["value"].split())
                        ]
                        if not matched:
                            continue
                        item: dict[str, Any] = {
                            "data": self._render(tweet, fields),
                            "matching_rules": matched,
                        }
                        users = self._users([tweet["author_id"]], user_fields)
                        if users:
                            item["includes"] = {"users": users}
                        if self.x.validate is not None:
                            try:
                                self.x.validate("GET", "stream", 200, item)
                            except Exception as exc:
                                self.x.validation_errors.append(f"stream: {exc}")
                        lines.append(json.dumps(item).encode() + b"\r\n")
                payload = b"".join(lines) or b"\r\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
                self.wfile.flush()
        except OSError:
            return  # the client went away

    def users_me(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        user_id = self._bearer_user()
        if not user_id:
            self._unauthorized()
            return
        fields = set(",".join(query.get("user.fields", [])).split(","))
        with self.x.lock:
            users = self._users([user_id], fields)
        self._send(200, {"data": users[0]} if users else {"data": {}}, route="users_me")

    def oauth_authorize(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        first = {k: v[0] for k, v in query.items()}
        if first.get("code_challenge_method") != "S256" or not first.get("code_challenge"):
            self._send(400, {"error": "invalid_request", "error_description": "PKCE S256 required"})
            return
        with self.x.lock:
            code = secrets.token_urlsafe(16)
            self.x.codes[code] = (
                self.x.consenting_user,
                first["code_challenge"],
                first.get("redirect_uri", ""),
            )
        target = (
            first.get("redirect_uri", "")
            + "?"
            + urlencode({"state": first.get("state", ""), "code": code})
        )
        self.send_response(302)
        self.send_header("location", target)
        self.send_header("content-length", "0")
        self.end_headers()

    def oauth_token(self, path: str, _: Any, form: Any, __: Any) -> None:
        form = form if isinstance(form, dict) else {}

        def refuse(description: str) -> None:
            self._send(400, {"error": "invalid_request", "error_description": description})

        grant = form.get("grant_type")
        with self.x.lock:
            if grant == "authorization_code":
                entry = self.x.codes.pop(form.get("code", ""), None)
                if entry is None:
                    refuse("Value passed for the authorization code was invalid.")
                    return
                user_id, challenge, redirect_uri = entry
                verifier = form.get("code_verifier", "")
                computed = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                    .decode()
                    .rstrip("=")
                )
                if computed != challenge or form.get("redirect_uri") != redirect_uri:
                    refuse("Value passed for the code verifier or redirect uri was invalid.")
                    return
            elif grant == "refresh_token":
                owner = self.x.refresh.pop(form.get("refresh_token", ""), None)
                if owner is None:
                    refuse("Value passed for the token was invalid.")
                    return
                user_id = owner
            else:
                refuse("Missing required parameter [grant_type].")
                return
            access, refresh = self.x.token_issue(user_id)
        self._send(
            200,
            {
                "token_type": "bearer",
                "expires_in": self.x.token_lifetime,
                "access_token": access,
                "refresh_token": refresh,
                "scope": "tweet.read tweet.write users.read offline.access",
            },
            route="oauth_token",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--bearer", default="app", help="the app bearer token it accepts")
    args = parser.parse_args()
    emulator = XEmulator()
    emulator.bearer_add(args.bearer)
    emulator.user_add("staging_user", "Staging User")
    url = emulator.start(args.host, args.port)
    print(f"X-compatible server on {url} (app bearer token: {args.bearer})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
