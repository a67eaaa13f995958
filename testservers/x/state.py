"""The X-compatible server's state and its Python control surface (thread-safe).

X's inconvenient behaviours are on by default where they cost a test nothing (escaped
text, duplicate refusals, the 7-day search window, 15-minute rate windows) and switched on
by a test where they take time (`search_lag`, `timeline_lag`, faults after a create).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any

from twitter_text import extract_urls

from jamhost.jams.hashtags import hashtag_fold, hashtags_extract
from testservers.x.handler import Handler
from testservers.x.wire import Fault, iso, parse_iso

Validate = Callable[[str, str, int, Any], None]

RATE_WINDOW = 15 * 60
SEARCH_WINDOW = timedelta(days=7)
# Requests per 15-minute window, per route and token, as X documents them for v2.
RATE_LIMITS = {
    "search_recent": 450,
    "tweet_create": 100,
    "users_tweets": 900,
    "users_me": 75,
    "tweet_get": 900,
    "tweets_lookup": 900,
}


class XEmulator:
    """The server's state and its Python control surface."""

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
        self.token_lifetime = 7200
        self.consenting_user = ""
        self.legacy_names = False
        self.validation_errors: list[str] = []
        self._next_id = 1_800_000_000_000_000_000
        self.rules: dict[str, dict[str, str]] = {}
        self.stream_changed = threading.Condition(self.lock)
        self.stream_open = False
        self.server: ThreadingHTTPServer | None = None
        # X's behaviours, each switchable.
        self.escape_text = True  # &, <, > come back as &amp;, &lt;, &gt;
        self.search_lag = 0.0  # seconds before a new post is found by search
        self.timeline_lag = 0.0  # … and in its author's timeline
        self.search_window = SEARCH_WINDOW  # recent search reaches this far back
        self.refuse_duplicates = True  # 403 for the same text from the same account
        self.rate_limits = dict(RATE_LIMITS)  # per route and token, per RATE_WINDOW
        self.clock_offset = 0.0  # seconds added to the wall clock (advance())
        self.visible_at: dict[int, tuple[float, float]] = {}  # id -> (search, timeline)
        self.tags: dict[int, set[str]] = {}  # id -> its hashtags, folded (as X links them)
        self.superseded: set[int] = set()  # edited away: no longer listed
        self.windows: dict[tuple[str, str], tuple[float, int]] = {}  # -> (start, used)
        self.served: dict[str, int] = {}  # posts returned, per route (what X bills)
        self.polls: dict[str, dict[str, Any]] = {}  # poll id -> options, votes, end

    # Time ----------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move this server's clock on (search lag, rate windows, the 7-day window)."""
        with self.lock:
            self.clock_offset += seconds

    # Rate windows --------------------------------------------------------------------

    def rate_take(self, route: str, token: str) -> tuple[bool, dict[str, str]]:
        """Count one request of `token` on `route`: (allowed, the x-rate-limit-* headers).
        Each (route, token) has its own 15-minute window, as on X."""
        with self.lock:
            limit = self.rate_limits.get(route, 900)
            now = self.now()
            start, used = self.windows.get((route, token), (now, 0))
            if now >= start + RATE_WINDOW:
                start, used = now, 0
            allowed = used < limit
            used += allowed
            self.windows[(route, token)] = (start, used)
            return allowed, {
                "x-rate-limit-limit": str(limit),
                "x-rate-limit-remaining": str(max(limit - used, 0)),
                "x-rate-limit-reset": str(int(start + RATE_WINDOW)),
            }

    # Accounts ------------------------------------------------------------------------

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

    # Posts ---------------------------------------------------------------------------

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
        history: list[str] | None = None,
    ) -> str:
        """Store a post as X would: URLs wrapped as t.co links (`urls` maps each t.co URL
        in `text` to its expanded form; without it every URL X finds is wrapped), hashtag
        entities as X extracts them. It reaches search after `search_lag` seconds."""
        with self.lock:
            self._next_id += 1 + secrets.randbelow(1000)
            tid = self._next_id
            if urls is None:
                urls = {}
                for found in extract_urls(text):
                    short = f"https://t.co/{secrets.token_hex(5)}"
                    urls[short] = found
                    text = text.replace(found, short, 1)
            entities: dict[str, Any] = {}
            url_entities = []
            for short, expanded in urls.items():
                start = text.find(short)
                if start >= 0:
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
            found = hashtags_extract(text)
            if found:
                entities["hashtags"] = [
                    {"start": h.start, "end": h.end, "tag": h.tag} for h in found
                ]
            now = self.now()
            tweet: dict[str, Any] = {
                "id": str(tid),
                "text": text,
                "author_id": author_id,
                "created_at": iso(created_at or datetime.fromtimestamp(now, tz=UTC)),
                "conversation_id": str(tid),
                "lang": lang,
                "edit_history_post_ids": [*(history or []), str(tid)],
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
            self.tags[tid] = {hashtag_fold(h.tag) for h in found}
            self.visible_at[tid] = (now + self.search_lag, now + self.timeline_lag)
            self.stream_changed.notify_all()
            return str(tid)

    def poll_attach(self, tweet_id: str, options: list[str], duration_minutes: int) -> str:
        """A native poll on the post, open for `duration_minutes` from now."""
        with self.lock:
            self._next_id += 1 + secrets.randbelow(1000)
            pid = str(self._next_id)
            self.polls[pid] = {
                "options": list(options),
                "votes": [0] * len(options),
                "duration_minutes": duration_minutes,
                "end": self.now() + duration_minutes * 60,
            }
            self.tweets[int(tweet_id)]["attachments"] = {"poll_ids": [pid]}
            return pid

    def poll_votes_add(self, tweet_id: str, votes: list[int]) -> None:
        """People on X vote in the post's poll: `votes[i]` more for option i + 1."""
        with self.lock:
            pid = self.tweets[int(tweet_id)]["attachments"]["poll_ids"][0]
            poll = self.polls[pid]
            if self.now() >= poll["end"]:
                raise ValueError("the poll has closed")
            poll["votes"] = [a + b for a, b in zip(poll["votes"], votes, strict=True)]

    def tweet_edit(self, tweet_id: str, text: str) -> str:
        """Edit a post as X does: a new post id whose edit history lists every version,
        oldest first; the older versions are no longer listed by search or timelines."""
        with self.lock:
            old = self.tweets[int(tweet_id)]
            history = list(old.get("edit_history_post_ids") or [tweet_id])
            new_id = self.tweet_add(
                old["author_id"], text, lang=old.get("lang", "en"), history=history
            )
            new = self.tweets[int(new_id)]
            new["conversation_id"] = old["conversation_id"]
            for version in history:
                self.tweets[int(version)]["edit_history_post_ids"] = list(
                    new["edit_history_post_ids"]
                )
                self.superseded.add(int(version))
            return new_id

    def tweet_delete(self, tweet_id: str) -> None:
        with self.lock:
            self.tweets.pop(int(tweet_id), None)

    def tweets_by(self, author_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [t for t in self.tweets.values() if t["author_id"] == author_id]

    def plain_text(self, tweet: dict[str, Any]) -> str:
        """The text as its author wrote it (t.co links expanded)."""
        text = str(tweet["text"])
        for url in (tweet.get("entities") or {}).get("urls", []):
            text = text.replace(url["url"], url["expanded_url"])
        return text

    def is_duplicate(self, author_id: str, text: str) -> bool:
        with self.lock:
            return self.refuse_duplicates and any(
                t["author_id"] == author_id and self.plain_text(t) == text
                for t in self.tweets.values()
            )

    def listed(self, tid: int, *, timeline: bool = False) -> bool:
        """Whether search (or the author's timeline) lists the post now."""
        if tid in self.superseded:
            return False
        search_at, timeline_at = self.visible_at.get(tid, (0.0, 0.0))
        return self.now() >= (timeline_at if timeline else search_at)

    def in_search_window(self, tweet: dict[str, Any]) -> bool:
        created = parse_iso(str(tweet["created_at"]))
        floor = datetime.fromtimestamp(self.now(), tz=UTC) - self.search_window
        return created is not None and created >= floor

    def matches(self, tweet: dict[str, Any], terms: list[str]) -> bool:
        """Whether a post matches a recent-search query of the terms jamhost sends:
        hashtags (as X extracts them), from:, -is:retweet and plain words."""
        text = tweet["text"].lower()
        tags = self.tags.get(int(tweet["id"]))
        if tags is None:  # a post a test put in `tweets` directly
            tags = {hashtag_fold(h.tag) for h in hashtags_extract(tweet["text"])}
        for term in terms:
            low = term.lower()
            if low == "-is:retweet":
                refs = tweet.get("referenced_posts") or []
                if any(r.get("type") == "retweeted" for r in refs):
                    return False
            elif low.startswith("from:"):
                user = self.users.get(tweet["author_id"], {})
                if user.get("username", "").lower() != low[5:]:
                    return False
            elif low.startswith("#"):
                if hashtag_fold(term[1:]) not in tags:
                    return False
            elif low not in text:
                return False
        return True

    def count_served(self, route: str, posts: int) -> None:
        with self.lock:
            self.served[route] = self.served.get(route, 0) + posts

    # Faults and requests -------------------------------------------------------------

    def fault_next(self, path: str, kind: str, *, times: int = 1, **options: Any) -> None:
        """Answer the next `times` requests whose path starts with `path` with a fault."""
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

    def requests_to(self, path: str, method: str | None = None) -> list[Any]:
        with self.lock:
            return [r for r in self.requests if r[1] == path and (method in (None, r[0]))]

    # Serving -------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        emulator = self

        class Bound(Handler):
            x = emulator

        self.server = ThreadingHTTPServer((host, port), Bound)
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
