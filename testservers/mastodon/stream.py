"""The streaming API of the Mastodon-compatible server: Server-Sent Events of a hashtag
(`event: update` / `status.update` with a Status as data, `event: delete` with the id). A
mixin of handler.Handler."""

from __future__ import annotations

import json
from typing import Any

from testservers.mastodon.plumbing import Plumbing

HEARTBEAT = 1.0  # seconds between ":thump" comments, as Mastodon's streaming server sends


class StreamRoutes(Plumbing):
    def stream(self, path: str, query: dict[str, list[str]], payload: Any, _: Any) -> None:
        params = {k: v[0] for k, v in query.items()}
        params.update(payload if isinstance(payload, dict) else {})
        kind = params.get("stream") or path.rstrip("/").rsplit("/", 1)[-1]
        if kind == "health":
            self._send(200, b"OK")
            return
        if kind not in ("hashtag", "hashtag:local"):
            self._error(400, "Unknown stream type")
            return
        tag = str(params.get("tag") or "").lower().lstrip("#")
        if not tag:
            self._error(400, "No tag for stream provided")
            return
        if self.headers.get("Authorization") and self._account() is None:
            return
        with self.m.lock:  # before the client can see the stream open
            seen = len(self.m.events)
            self.m.streams_open += 1
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.close_connection = True
            self._chunk(b":)\n\n")
            while True:
                with self.m.lock:
                    if not self.m._closing and len(self.m.events) == seen:
                        self.m.stream_changed.wait(timeout=HEARTBEAT)
                    if self.m._closing:
                        self._chunk(b"")
                        return
                    new, seen = self.m.events[seen:], len(self.m.events)
                    frames = [self._frame(event, data) for event, tags, data in new if tag in tags]
                out = b"".join(frames) or b":thump\n\n"
                self._chunk(out)
        except OSError:
            return  # the client went away
        finally:
            with self.m.lock:
                self.m.streams_open -= 1

    def _frame(self, event: str, data: str) -> bytes:
        if event != "delete" and self.m.validate is not None:
            try:
                self.m.validate("GET", "stream", 200, json.loads(data))
            except Exception as exc:
                self.m.validation_errors.append(f"stream: {exc}")
        return f"event: {event}\ndata: {data}\n\n".encode()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()
