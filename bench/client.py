"""The load client: many websocket connections in one process, cheap per frame.

`python -m bench.client --host H --port P --socket PATH:COUNT[:COOKIE] … --results FILE`

It speaks RFC 6455 itself on asyncio (uvloop) protocols instead of using a websocket
library: the client shares one core with Redis and the poster, and at 2,000 viewers x 20
posts/s it must take in 40,000 frames/s without becoming the bottleneck it measures. It
still is a real client: HTTP upgrade with a checked Sec-WebSocket-Accept, masked frames
out, unmasked frames in, fragmentation, ping/pong and the close handshake.

Each socket behaves like live.js: it connects with `?after=<last rev applied>`, waits
for the `caught-up` marker, and after any close it did not ask for (1006, 1012, 1013 …)
reconnects at once with its last rev, as a page would. Every post frame is recorded
(rev, arrival time) across all of a socket's connections; bench.fanout counts them.

Talks to its parent over stdin/stdout, one JSON object per line:
- prints {"event": "ready", …} once every socket has its first caught-up marker;
- "status" on stdin: prints {"event": "status", "open": n, "caught_up": n, …};
- "stop" on stdin: closes every socket, writes the results file, prints "done", exits.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import pickle
import random
import sys
import time
from array import array

import uvloop

from bench.frames import frame_revs

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RETRY_DELAY = 0.2  # between refused connects while the server is down
HANDSHAKE_REFUSED = 4001  # recorded as the close code of an upgrade the server refused
RECONNECT_CODES = {1006, 1011, 1012, 1013}  # the codes htmx's ws extension reconnects after


def masked_frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = bytes((0x80 | opcode, 0x80 | length))
    elif length < 65536:
        header = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + body


class Socket(asyncio.Protocol):
    """One viewer or moderator: survives reconnects; a new transport per connection."""

    def __init__(self, fleet: Fleet, path: str, cookie: str) -> None:
        self.fleet = fleet
        self.path = path
        self.cookie = cookie
        self.after = fleet.after
        self.revs: array[int] = array("q")
        self.times: array[float] = array("d")
        self.markers: list[tuple[float, int]] = []
        self.closes: list[tuple[float, int]] = []
        self.connects = 0
        self.refused = 0
        self.gave_up = False
        self.transport: asyncio.Transport | None = None
        self.open = False
        self.caught_up = False
        self.handshake = b""
        self.buffer = b""
        self.fragments: list[bytes] = []
        self.close_code = 1006
        self.key = b""

    # Connection -------------------------------------------------------------------------

    async def connect(self) -> None:
        while not self.fleet.stopping:
            try:
                await self.fleet.loop.create_connection(
                    lambda: self, self.fleet.host, self.fleet.port
                )
                return
            except OSError:
                self.refused += 1
                await asyncio.sleep(RETRY_DELAY * (1 + random.random()))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  (uvloop's is no subclass)
        self.connects += 1
        self.handshake = b""
        self.buffer = b""
        self.fragments = []
        self.close_code = 1006
        self.key = base64.b64encode(os.urandom(16))
        cookie = f"Cookie: {self.cookie}\r\n" if self.cookie else ""
        request = (
            f"GET {self.path}?after={self.after} HTTP/1.1\r\n"
            f"Host: {self.fleet.host}:{self.fleet.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self.key.decode()}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://{self.fleet.host}:{self.fleet.port}\r\n{cookie}\r\n"
        )
        transport.write(request.encode())

    def connection_lost(self, exc: Exception | None) -> None:
        now = time.monotonic()
        self.closes.append((now, self.close_code))
        if self.caught_up:
            self.fleet.caught_up -= 1
        if self.open:
            self.fleet.open -= 1
        self.open = self.caught_up = False
        self.transport = None
        if self.fleet.stopping:
            return
        if self.close_code in RECONNECT_CODES:
            # As live.js does: reconnect at once, resuming from the last rev applied.
            self.fleet.loop.create_task(self.connect())
        elif not self.gave_up:
            self.gave_up = True
            self.fleet.gave_up += 1
            self.fleet.check_ready()

    # Reading ----------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if not self.open:
            self.handshake += data
            end = self.handshake.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data = self.handshake[:end], self.handshake[end + 4 :]
            if not self._accepted(head):
                self.close_code = HANDSHAKE_REFUSED
                assert self.transport is not None
                self.transport.close()
                return
            self.open = True
            self.fleet.open += 1
        if self.buffer:
            data = self.buffer + data
            self.buffer = b""
        pos, size = 0, len(data)
        while size - pos >= 2:
            first, second = data[pos], data[pos + 1]
            length, header = second & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, header = int.from_bytes(data[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, header = int.from_bytes(data[pos + 2 : pos + 10], "big"), 10
            end = pos + header + length
            if end > size:
                break
            if second & 0x80:  # servers must not mask
                self._fail(1002)
                return
            self._frame(first, data[pos + header : end], now)
            pos = end
        if pos < size:
            self.buffer = data[pos:]

    def _accepted(self, head: bytes) -> bool:
        lines = head.split(b"\r\n")
        if b" 101 " not in lines[0] + b" ":
            return False
        expected = base64.b64encode(hashlib.sha1(self.key + GUID).digest())
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-accept":
                return value.strip() == expected
        return False

    def _frame(self, first: int, payload: bytes, now: float) -> None:
        opcode = first & 0x0F
        if opcode == 0:
            self.fragments.append(payload)
            if first & 0x80:
                self._message(b"".join(self.fragments), now)
                self.fragments = []
        elif opcode == 1:
            if first & 0x80:
                self._message(payload, now)
            else:
                self.fragments = [payload]
        elif opcode == 9:
            self._write(masked_frame(10, payload))
        elif opcode == 8:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self._write(masked_frame(8, payload[:2]))
            assert self.transport is not None
            self.transport.close()

    def _message(self, text: bytes, now: float) -> None:
        revs, marker = frame_revs(text)
        for rev in revs:
            self.revs.append(rev)
            self.times.append(now)
            self.after = max(self.after, rev)
        if marker is not None:
            self.markers.append((now, marker))
            self.after = max(self.after, marker)
            if not self.caught_up:
                self.caught_up = True
                self.fleet.caught_up += 1
                self.fleet.check_ready()

    def _write(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def _fail(self, code: int) -> None:
        self.close_code = code
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        if self.transport is not None and self.open:
            self._write(masked_frame(8, (1000).to_bytes(2, "big")))
        if self.transport is not None:
            self.transport.close()

    def result(self, audience: str) -> dict[str, object]:
        return {
            "audience": audience,
            "revs": self.revs,
            "times": self.times,
            "markers": self.markers,
            "closes": self.closes,
            "connects": self.connects,
            "refused": self.refused,
            "gave_up": self.gave_up,
        }


class Fleet:
    def __init__(self, host: str, port: int, after: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.host, self.port, self.after = host, port, after
        self.sockets: list[tuple[str, Socket]] = []
        self.open = 0
        self.caught_up = 0
        self.gave_up = 0
        self.stopping = False
        self.ready = asyncio.Event()

    def check_ready(self) -> None:
        if self.caught_up + self.gave_up >= len(self.sockets):
            self.ready.set()

    def status(self) -> dict[str, object]:
        return {
            "event": "status",
            "time": time.monotonic(),
            "sockets": len(self.sockets),
            "open": self.open,
            "caught_up": self.caught_up,
            "gave_up": self.gave_up,
            "frames": sum(len(s.revs) for _, s in self.sockets),
        }


def say(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def run(args: argparse.Namespace) -> None:
    fleet = Fleet(args.host, args.port, args.after)
    for spec in args.socket:
        path, count, *rest = spec.split(":", 2)
        audience = "moderator" if path.rstrip("/").endswith("console") else "viewer"
        for _ in range(int(count)):
            fleet.sockets.append((audience, Socket(fleet, path, rest[0] if rest else "")))
    started = time.monotonic()
    gate = asyncio.Semaphore(args.connect_concurrency)

    async def first_connect(sock: Socket) -> None:
        async with gate:
            await sock.connect()

    await asyncio.gather(*(first_connect(s) for _, s in fleet.sockets))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(fleet.ready.wait(), args.ready_timeout)
    say({"event": "ready", "seconds": time.monotonic() - started, **fleet.status()})

    reader = asyncio.StreamReader()
    await fleet.loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if line == "status":
            say(fleet.status())
        elif line in ("stop", ""):
            break
    fleet.stopping = True
    for _, sock in fleet.sockets:
        sock.close()
    await asyncio.sleep(0.2)
    with open(args.results, "wb") as out:
        pickle.dump([sock.result(audience) for audience, sock in fleet.sockets], out)
    say({"event": "done"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--after", type=int, default=0, help="rev the page was rendered with")
    parser.add_argument(
        "--socket", action="append", required=True, help="PATH:COUNT[:COOKIE], repeatable"
    )
    parser.add_argument("--connect-concurrency", type=int, default=100)
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    parser.add_argument("--results", required=True)
    uvloop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
