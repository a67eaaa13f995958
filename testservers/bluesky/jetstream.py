"""Jetstream on the Bluesky-compatible server: GET /subscribe upgraded to a websocket
(RFC 6455, text frames, answered pings and closes), sending each commit as Jetstream's JSON
({did, time_us, kind: "commit", commit: {rev, operation, collection, rkey, record, cid}}).

`wantedCollections` filters by collection, `cursor` (microseconds) replays the stored
events from that time on before the live ones, as Jetstream does."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
from typing import Any

from testservers.bluesky.plumbing import Plumbing

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Subscriber:
    """One open websocket: frames out under a lock, frames in on a reader thread."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.write_lock = threading.Lock()
        self.closed = threading.Event()

    def _frame(self, opcode: int, payload: bytes) -> None:
        size = len(payload)
        if size < 126:
            head = struct.pack("!BB", 0x80 | opcode, size)
        elif size < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 126, size)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
        with self.write_lock:
            if self.closed.is_set() and opcode != 0x8:
                return
            try:
                self.sock.sendall(head + payload)
            except OSError:
                self.closed.set()

    def send_text(self, text: str) -> None:
        self._frame(0x1, text.encode())

    def cut(self) -> None:
        """Close the TCP connection without a closing handshake (a dropped stream)."""
        self.closed.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def _read_exact(self, size: int) -> bytes:
        chunks = b""
        while len(chunks) < size:
            chunk = self.sock.recv(size - len(chunks))
            if not chunk:
                raise ConnectionError("closed")
            chunks += chunk
        return chunks

    def read_loop(self) -> None:
        """Answer the client's pings and its close; anything else it sends is ignored."""
        try:
            while not self.closed.is_set():
                first, second = self._read_exact(2)
                opcode, size = first & 0x0F, second & 0x7F
                if size == 126:
                    (size,) = struct.unpack("!H", self._read_exact(2))
                elif size == 127:
                    (size,) = struct.unpack("!Q", self._read_exact(8))
                mask = self._read_exact(4) if second & 0x80 else b"\0\0\0\0"
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read_exact(size)))
                if opcode == 0x9:
                    self._frame(0xA, payload)
                elif opcode == 0x8:
                    self._frame(0x8, payload[:2])
                    self.cut()
        except (OSError, ConnectionError, ValueError):
            self.closed.set()


class JetstreamRoutes(Plumbing):
    def subscribe(self, query: dict[str, list[str]]) -> None:
        key = self.headers.get("sec-websocket-key", "")
        if "websocket" not in self.headers.get("upgrade", "").lower() or not key:
            self._send(400, {"error": "InvalidRequest", "message": "expected a websocket"})
            return
        wanted = {c for v in query.get("wantedCollections", []) for c in v.split(",") if c}
        raw_cursor = (query.get("cursor") or [""])[0]
        try:
            cursor = int(raw_cursor) if raw_cursor else None
        except ValueError:
            self._send(400, {"error": "InvalidRequest", "message": "cursor must be an integer"})
            return
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()  # noqa: S324 (RFC 6455)
        self.send_response(101)
        self.send_header("upgrade", "websocket")
        self.send_header("connection", "Upgrade")
        self.send_header("sec-websocket-accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        subscriber = Subscriber(self.connection)
        threading.Thread(target=subscriber.read_loop, daemon=True).start()
        state = self.bsky
        with state.lock:
            state.subscribers.append(subscriber)
            last = state.events[-1][0] if state.events else 0
            position = cursor - 1 if cursor is not None else last
        while not subscriber.closed.is_set():
            with state.lock:
                fresh = [e for t, e in state.events if t > position]
                if not fresh:
                    state.changed.wait(timeout=0.5)
                    continue
            for event in fresh:
                position = int(event["time_us"])
                if wanted and event.get("commit", {}).get("collection") not in wanted:
                    continue
                self._check(event)
                subscriber.send_text(json.dumps(event))
        with state.lock:
            if subscriber in state.subscribers:
                state.subscribers.remove(subscriber)

    def _check(self, event: dict[str, Any]) -> None:
        if self.bsky.validate is not None:
            try:
                self.bsky.validate("jetstream", 200, event)
            except Exception as exc:
                self.bsky.validation_errors.append(f"jetstream: {exc}")
