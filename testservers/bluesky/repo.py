"""The PDS's record procedures on the Bluesky-compatible server: createRecord (a post
record checked as the PDS checks app.bsky.feed.post: 300 graphemes, facets within the
text's UTF-8 bytes, a TID record key), deleteRecord and getRecord. A mixin of
handler.Handler."""

from __future__ import annotations

import time
from typing import Any

from testservers.bluesky.plumbing import Plumbing
from testservers.bluesky.wire import (
    TID_PATTERN,
    Fault,
    cid_for,
    graphemes,
    parse_iso,
    tid_encode,
)

POST = "app.bsky.feed.post"
FEATURES = {
    "app.bsky.richtext.facet#mention": "did",
    "app.bsky.richtext.facet#link": "uri",
    "app.bsky.richtext.facet#tag": "tag",
}


def post_problem(record: Any) -> str | None:
    """Why the PDS refuses `record` as an app.bsky.feed.post, or None."""
    if not isinstance(record, dict):
        return "Record must be an object"
    kind = record.get("$type", POST)
    if kind != POST:
        return f"Invalid $type: expected {POST}, got {kind}"
    text = record.get("text")
    if not isinstance(text, str):
        return 'Record must have the property "text"'
    if graphemes(text) > 300:
        return "Record/text must not be longer than 300 graphemes"
    size = len(text.encode())
    if size > 3000:
        return "Record/text must not be longer than 3000 characters"
    if parse_iso(record.get("createdAt")) is None or "T" not in str(record.get("createdAt")):
        return "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
    facets = record.get("facets", [])
    if not isinstance(facets, list):
        return "Record/facets must be an array"
    for number, facet in enumerate(facets):
        problem = facet_problem(facet, size)
        if problem:
            return f"Record/facets/{number}/{problem}"
    tags = record.get("tags", [])
    if not isinstance(tags, list) or len(tags) > 8:
        return "Record/tags must be an array of at most 8 strings"
    reply = record.get("reply")
    if reply is not None:
        for part in ("root", "parent"):
            ref = reply.get(part) if isinstance(reply, dict) else None
            if not isinstance(ref, dict) or not str(ref.get("uri", "")).startswith("at://"):
                return f"Record/reply/{part} must be a strong reference (uri, cid)"
            if not isinstance(ref.get("cid"), str):
                return f"Record/reply/{part} must be a strong reference (uri, cid)"
    return None


def facet_problem(facet: Any, size: int) -> str | None:
    """Why a richtext facet is invalid for a text of `size` UTF-8 bytes, or None."""
    index = facet.get("index") if isinstance(facet, dict) else None
    if not isinstance(index, dict):
        return 'index must be an object with "byteStart" and "byteEnd"'
    start, end = index.get("byteStart"), index.get("byteEnd")
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
        return "index/byteStart and byteEnd must be integers"
    if not 0 <= start < end <= size:
        return f"index [{start}, {end}) is not a byte range within the text's {size} bytes"
    features = facet.get("features")
    if not isinstance(features, list) or not features:
        return "features must be a non-empty array"
    for feature in features:
        kind = feature.get("$type") if isinstance(feature, dict) else None
        field = FEATURES.get(str(kind))
        if field is None:
            return f"features has an unknown $type {kind!r}"
        value = feature.get(field)
        if not isinstance(value, str) or not value:
            return f"features {kind} must have the property {field!r}"
        if field == "did" and not value.startswith("did:"):
            return "features mention did must be a DID"
        if field == "tag" and (graphemes(value) > 64 or value.startswith("#")):
            return "features tag must be at most 64 graphemes, without '#'"
    return None


class RepoRoutes(Plumbing):
    def _repo_did(self, payload: Any, did: str) -> bool:
        """Whether the request's repo is the signed-in account (400 answered if not)."""
        repo = payload.get("repo")
        if not isinstance(repo, str) or self.bsky.did_of(repo) != did:
            self._error(400, "InvalidRequest", f"Invalid repo: {repo!r} is not the session's")
            return False
        if payload.get("collection") != POST:
            collection = payload.get("collection")
            self._error(
                400, "InvalidRequest", f"This server stores {POST} records, not {collection!r}"
            )
            return False
        return True

    def create_record(self, _: Any, payload: Any, fault: Fault | None) -> None:
        did = self._authed()
        if did is None:
            return
        payload = payload if isinstance(payload, dict) else {}
        if not self._repo_did(payload, did):
            return
        rkey = payload.get("rkey")
        if rkey is not None and (not isinstance(rkey, str) or not TID_PATTERN.match(rkey)):
            self._error(400, "InvalidRequest", f"Invalid record key for {POST}: must be a TID")
            return
        record = payload.get("record")
        problem = post_problem(record)
        if problem:
            self._error(400, "InvalidRequest", f"Invalid {POST} record: {problem}")
            return
        record = {"$type": POST, **record}
        state = self.bsky
        with state.lock:
            uri = f"at://{did}/{POST}/{rkey}"
            if rkey and uri in state.posts:
                self._existing(uri)
                return
            post = state.post_store(did, record, rkey)
        body = {
            "uri": post["uri"],
            "cid": post["cid"],
            "commit": {"cid": post["cid"], "rev": post["rev"]},
            "validationStatus": "valid",
        }
        self._after_create(fault, body)

    def _after_create(self, fault: Fault | None, body: Any) -> None:
        """Answer a stored create, unless a fault loses or delays the answer."""
        if fault is not None and fault.after_create:
            if fault.kind == "drop_after_create":
                self._drop()
                return
            if fault.kind == "502_after_create":
                self._unavailable(502)
                return
            time.sleep(fault.delay)
        self._send(200, body)

    def _existing(self, uri: str) -> None:
        mode = self.bsky.existing_rkey
        if mode == "409":
            self._error(409, "RecordAlreadyExists", f"Record already exists: {uri}")
        elif mode == "500":
            self._error(500, "InternalServerError", "Internal Server Error")
        else:
            self._error(400, "InvalidRequest", f"Record already exists: {uri}")

    def delete_record(self, _: Any, payload: Any, __: Any) -> None:
        """Deleting a record that is not there succeeds, as on the PDS."""
        did = self._authed()
        if did is None:
            return
        payload = payload if isinstance(payload, dict) else {}
        if not self._repo_did(payload, did):
            return
        rkey = payload.get("rkey")
        if not isinstance(rkey, str) or not rkey:
            self._error(400, "InvalidRequest", 'Input must have the property "rkey"')
            return
        state = self.bsky
        if state.post_delete(f"at://{did}/{POST}/{rkey}"):
            rev = tid_encode(int(state.now() * 1_000_000), 9)
            self._send(200, {"commit": {"cid": cid_for({"deleted": rkey, "rev": rev}), "rev": rev}})
            return
        self._send(200, {})

    def get_record(self, query: dict[str, list[str]], _: Any, __: Any) -> None:
        repo = (query.get("repo") or [""])[0]
        rkey = (query.get("rkey") or [""])[0]
        collection = (query.get("collection") or [""])[0]
        did = self.bsky.did_of(repo) or repo
        uri = f"at://{did}/{collection}/{rkey}"
        with self.bsky.lock:
            post = self.bsky.posts.get(uri)
        if post is None:
            self._error(400, "RecordNotFound", f"Could not locate record: {uri}")
            return
        self._send(200, {"uri": uri, "cid": post["cid"], "value": post["record"]})
