"""The X-compatible server's HTTP side: plumbing, faults, rate windows and the post
endpoints (recent search, create, look up one, a user's timeline). Sign-in and the
filtered stream are in accounts.py and stream.py."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from twitter_text import parse_tweet

from testservers.x.accounts import AccountRoutes
from testservers.x.polls import PollRoutes, poll_refused
from testservers.x.stream import StreamRoutes
from testservers.x.wire import Fault, parse_iso, problem, x_escape

if TYPE_CHECKING:
    pass

ROUTES = {
    ("GET", "/2/tweets/search/recent"): "search_recent",
    ("POST", "/2/tweets"): "tweet_create",
    ("GET", "/2/tweets"): "tweets_lookup",
    ("GET", "/2/users/me"): "users_me",
    ("POST", "/2/oauth2/token"): "oauth_token",
    ("GET", "/i/oauth2/authorize"): "oauth_authorize",
    ("GET", "/2/tweets/search/stream"): "stream",
    ("GET", "/2/tweets/search/stream/rules"): "rules_get",
    ("POST", "/2/tweets/search/stream/rules"): "rules_update",
}
RATE_LIMITED = {
    "search_recent",
    "tweet_create",
    "users_tweets",
    "users_me",
    "tweet_get",
    "tweets_lookup",
}
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."


class Handler(AccountRoutes, StreamRoutes, PollRoutes):
    """Routes each request, applies rate windows and queued faults, and serves posts."""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        _raw, payload = self._body() if self.command == "POST" else (b"", None)
        with self.x.lock:
            self.x.requests.append((self.command, path, query, payload))
        route = self._route(path)
        self.rate_headers = {}
        if route in RATE_LIMITED:
            allowed, self.rate_headers = self.x.rate_take(route, self._token())
            if not allowed:
                self._too_many()
                return
        fault = self.x.fault_for(path)
        if fault is not None and not fault.after_create and self._fault(fault):
            return
        if route is None:
            self._send(404, problem(404, "Not Found", f"no route {path}", "resource-not-found"))
            return
        getattr(self, route)(path, query, payload, fault)

    def _too_many(self, reset_in: int | None = None) -> None:
        headers = dict(self.rate_headers)
        headers["x-rate-limit-remaining"] = "0"
        if reset_in is not None:
            headers["x-rate-limit-reset"] = str(int(self.x.now()) + reset_in)
        body = {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        }
        self._send(429, body, headers)

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
        if fault.kind in ("500", "503"):
            self._unavailable(int(fault.kind))
            return True
        if fault.kind == "malformed":
            self._send(200, b'{"data": [{"id": "1", "text": "cut off')
            return True
        if fault.kind == "raw":
            raw = fault.body if isinstance(fault.body, bytes) else json.dumps(fault.body).encode()
            self._send(fault.status, raw, fault.headers)
            return True
        raise ValueError(f"unknown fault {fault.kind}")

    def _unavailable(self, status: int) -> None:
        body = {
            "title": "Service Unavailable",
            "detail": "Service Unavailable",
            "type": "about:blank",
            "status": status,
        }
        self._send(status, body)

    def _route(self, path: str) -> str | None:
        if (self.command, path) in ROUTES:
            return ROUTES[(self.command, path)]
        if self.command == "GET" and re.fullmatch(r"/2/tweets/\d+", path):
            return "tweet_get"
        if self.command == "GET" and re.fullmatch(r"/2/users/\d+/tweets", path):
            return "users_tweets"
        return None

    do_GET = _handle
    do_POST = _handle

    def _page(
        self,
        route: str,
        query: dict[str, list[str]],
        matches: list[dict[str, Any]],
        max_results: int,
        token_key: str,
        since_id: int,
    ) -> None:
        """Answer one page of `matches` (newest first), with includes and meta."""
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
            body["meta"][token_key] = base64.urlsafe_b64encode(
                json.dumps({"s": since_id, "u": int(page[-1]["id"])}).encode()
            ).decode()
        self.x.count_served(route, len(page))
        self._send(200, body, route=route)

    def _window(
        self, route: str, query: dict[str, list[str]], token_key: str, low: int, high: int
    ) -> tuple[int, int, int, datetime | None, datetime | None] | None:
        """max_results, since_id, until_id, start_time, end_time of a listing request;
        None after answering 400 for a value X refuses."""
        try:
            max_results = int((query.get("max_results") or [str(low)])[0])
        except ValueError:
            max_results = 0
        if not low <= max_results <= high:
            detail = f"max_results must be between {low} and {high}"
            self._send(400, problem(400, "Invalid Request", detail), route=route)
            return None
        since_id = int((query.get("since_id") or ["0"])[0] or 0)
        until_id = 0
        token = (query.get(token_key) or [""])[0]
        if token:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
                since_id, until_id = int(decoded["s"]), int(decoded["u"])
            except (ValueError, KeyError, TypeError):
                self._send(400, problem(400, "Invalid Request", f"{token_key} is invalid"))
                return None
        times = []
        for name in ("start_time", "end_time"):
            raw = (query.get(name) or [""])[0]
            when = parse_iso(raw) if raw else None
            if raw and when is None:
                detail = f"Invalid '{name}':'{raw}'. '{name}' must be a date-time."
                self._send(400, problem(400, "Invalid Request", detail), route=route)
                return None
            times.append(when)
        return max_results, since_id, until_id, times[0], times[1]

    @staticmethod
    def _between(tweet: dict[str, Any], start: datetime | None, end: datetime | None) -> bool:
        created = parse_iso(str(tweet["created_at"]))
        if created is None:
            return False
        return (start is None or created >= start) and (end is None or created < end)

    # Endpoints -------------------------------------------------------------------------

    def search_recent(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        if self._bearer_user() is None:
            self._unauthorized()
            return
        window = self._window("search_recent", query, "next_token", 10, 100)
        if window is None:
            return
        max_results, since_id, until_id, start, end = window
        floor = datetime.fromtimestamp(self.x.now(), tz=UTC) - self.x.search_window
        if start is not None and start < floor:
            detail = (
                f"Invalid 'start_time':'{query['start_time'][0]}'. 'start_time' must be on "
                f"or after {floor:%Y-%m-%dT%H:%MZ}"
            )
            self._send(400, problem(400, "Invalid Request", detail), route="search_recent")
            return
        terms = (query.get("query") or [""])[0].split()
        with self.x.lock:
            matches = [
                t
                for tid, t in sorted(self.x.tweets.items(), reverse=True)
                if tid > since_id
                and (not until_id or tid < until_id)
                and self.x.listed(tid)
                and self.x.in_search_window(t)
                and self._between(t, start, end)
                and self.x.matches(t, terms)
            ]
            self._page("search_recent", query, matches, max_results, "next_token", since_id)

    def users_tweets(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        """GET /2/users/:id/tweets: the user's own posts, newest first."""
        if self._bearer_user() is None:
            self._unauthorized()
            return
        window = self._window("users_tweets", query, "pagination_token", 5, 100)
        if window is None:
            return
        max_results, since_id, until_id, start, end = window
        user_id = path.split("/")[3]
        with self.x.lock:
            matches = [
                t
                for tid, t in sorted(self.x.tweets.items(), reverse=True)
                if t["author_id"] == user_id
                and tid > since_id
                and (not until_id or tid < until_id)
                and self.x.listed(tid, timeline=True)
                and self._between(t, start, end)
            ]
            self._page("users_tweets", query, matches, max_results, "next_token", since_id)

    def tweet_create(self, path: str, _: Any, payload: Any, fault: Fault | None) -> None:
        user_id = self._bearer_user()
        if not user_id:
            self._unauthorized()
            return
        text = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(text, str) or not text.strip():
            self._send(
                400, problem(400, "Invalid Request", "text is required"), route="tweet_create"
            )
            return
        if not parse_tweet(text).valid:
            self._send(
                400,
                problem(400, "Invalid Request", "Your Post text is too long."),
                route="tweet_create",
            )
            return
        if isinstance(payload.get("reply"), dict):
            self._send(
                403,
                problem(
                    403,
                    "Forbidden",
                    "Reply to this conversation is not allowed because you have not been mentioned "
                    "or otherwise engaged by the author of the post you are replying to.",
                    "disallowed-resource",
                ),
            )
            return
        poll = payload.get("poll")
        refused = poll_refused(poll) if poll is not None else None
        if refused is not None:
            self._send(400, refused, route="tweet_create")
            return
        with self.x.lock:
            if self.x.is_duplicate(user_id, text):
                body = {"detail": DUPLICATE, "type": "about:blank", "title": "Forbidden"}
                self._send(403, {**body, "status": 403})
                return
            tid = self.x.tweet_add(user_id, text)
            if poll is not None:
                self.x.poll_attach(tid, poll["options"], poll["duration_minutes"])
            stored = self.x.tweets[int(tid)]
        if fault is not None and fault.after_create:
            if fault.kind == "slow_after_create":
                time.sleep(fault.delay)
            elif fault.kind == "drop_after_create":
                self._drop()
                return
            elif fault.kind == "503_after_create":
                self._unavailable(503)
                return
        text_out = x_escape(stored["text"]) if self.x.escape_text else stored["text"]
        self._send(
            201,
            {"data": {"id": tid, "text": text_out, "edit_history_post_ids": [tid]}},
            route="tweet_create",
        )

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
        self.x.count_served("tweet_get", 1)
        self._send(200, {"data": self._render(tweet, self._fields(query))}, route="tweet_get")
