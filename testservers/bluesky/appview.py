"""The AppView's queries on the Bluesky-compatible server: searchPosts (q, tag, since,
until, sort, limit and an opaque cursor; newest first by sortAt; a post shows up only once
indexed, `search_lag` s after it was written), getProfile and resolveHandle. A mixin of
handler.Handler."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from testservers.bluesky.plumbing import Plumbing
from testservers.bluesky.wire import iso, iso_at, parse_iso


def cursor_encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "v": 1}).encode()).decode()


def cursor_decode(raw: str) -> int | None:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw.encode()))
        offset = decoded["o"]
    except (ValueError, KeyError, TypeError):
        return None
    return offset if isinstance(offset, int) and offset >= 0 else None


class AppViewRoutes(Plumbing):
    def _author(self, did: str) -> dict[str, Any]:
        with self.bsky.lock:
            account = self.bsky.accounts.get(did)
        if account is None:
            return {"did": did, "handle": "handle.invalid"}
        author = {"did": did, "handle": account["handle"], "createdAt": account["createdAt"]}
        if account["displayName"]:
            author["displayName"] = account["displayName"]
        if account["avatar"]:
            author["avatar"] = account["avatar"]
        return author

    def _post_view(self, post: dict[str, Any]) -> dict[str, Any]:
        return {
            "uri": post["uri"],
            "cid": post["cid"],
            "author": self._author(post["did"]),
            "record": post["record"],
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": iso_at(float(post["indexed_at"])),
            "labels": [],
        }

    def _matches(self, post: dict[str, Any], terms: list[str], tags: list[str]) -> bool:
        record = post["record"]
        found = self.bsky.tags_of(record)
        text = str(record.get("text", "")).lower()
        for term in terms:
            if term.startswith("#"):
                if term[1:].lower() not in found:
                    return False
            elif term.lower() not in text:
                return False
        return all(tag.lower().lstrip("#") in found for tag in tags)

    def _bounds(self, query: dict[str, list[str]]) -> list[datetime | None] | None:
        bounds: list[datetime | None] = []
        for name in ("since", "until"):
            raw = (query.get(name) or [""])[0]
            when = parse_iso(raw) if raw else None
            if raw and when is None:
                self._error(400, "InvalidRequest", f"Error: {name} must be a datetime or a date")
                return None
            bounds.append(when)
        return bounds

    def search_posts(self, query: dict[str, list[str]], _: Any, __: Any) -> None:
        if self._token() and self._authed() is None:
            return
        q = (query.get("q") or [""])[0]
        if not q:
            self._error(400, "InvalidRequest", 'Error: Params must have the property "q"')
            return
        try:
            limit = int((query.get("limit") or ["25"])[0])
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            self._error(400, "InvalidRequest", "Error: limit must be between 1 and 100")
            return
        raw_cursor = (query.get("cursor") or [""])[0]
        offset = cursor_decode(raw_cursor) if raw_cursor else 0
        if offset is None:
            self._error(400, "InvalidRequest", "Error: malformed cursor")
            return
        bounds = self._bounds(query)
        if bounds is None:
            return
        since, until = bounds
        state = self.bsky
        with state.lock:
            matches = [
                p
                for p in state.posts.values()
                if state.searchable(p)
                and (since is None or state.sort_at(p) >= since)
                and (until is None or state.sort_at(p) < until)
                and self._matches(p, q.split(), query.get("tag", []))
            ]
            matches.sort(key=lambda p: (state.sort_at(p), p["uri"]), reverse=True)
            page = [self._post_view(p) for p in matches[offset : offset + limit]]
        body: dict[str, Any] = {"posts": page}
        if offset + limit < len(matches):
            body["cursor"] = cursor_encode(offset + limit)
        self._send(200, body)

    def get_profile(self, query: dict[str, list[str]], _: Any, __: Any) -> None:
        if self._token() and self._authed() is None:
            return
        actor = (query.get("actor") or [""])[0]
        did = self.bsky.did_of(actor)
        if did is None:
            self._error(400, "InvalidRequest", "Profile not found")
            return
        with self.bsky.lock:
            posts = sum(1 for p in self.bsky.posts.values() if p["did"] == did)
        profile = self._author(did)
        profile.update(
            {
                "description": "",
                "followersCount": 0,
                "followsCount": 0,
                "postsCount": posts,
                "indexedAt": iso(datetime.now(tz=UTC)),
                "labels": [],
            }
        )
        self._send(200, profile)

    def resolve_handle(self, query: dict[str, list[str]], _: Any, __: Any) -> None:
        handle = (query.get("handle") or [""])[0]
        did = self.bsky.did_of(handle) if handle and not handle.startswith("did:") else None
        if did is None:
            self._error(400, "InvalidRequest", "Unable to resolve handle")
            return
        self._send(200, {"did": did})
