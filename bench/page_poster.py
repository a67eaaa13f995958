"""The page poster: signed-in people posting through the compose box over HTTP, as the
htmx form does, at a fixed total rate.

`python -m bench.page_poster --port P --slug SLUG --session KEY … --rate R --duration S
--results FILE`

Each `--session` is one signed-in person (a Django session key the harness created). At
start each person loads the live room once, as a browser does: that sets the CSRF cookie
and gives the form's hidden token. Then post n goes to person n mod N as the form sends
it: `POST /jams/<slug>/live/compose/` with the session and CSRF cookies, the
`csrfmiddlewaretoken`, `body`, `question=auto`, a fresh `client_key`, and htmx's headers
(`HX-Request`, `HX-Target`, `HX-Current-URL`) plus `Origin`, over keep-alive
connections (at most BROWSER_CONNECTIONS per person, as a browser keeps per host).

It is open-loop: posts are sent on schedule whether or not earlier answers came back
(that is how a jam's peak behaves), and a person whose connections are all busy opens no
more than a browser would, so such a post waits (counted as `late`).

For every post it records the client key, the monotonic time the request was written,
the time the answer was read, the status and whether the answer said "Posted". The
harness maps client keys to revs from the database afterwards, so delivery latency runs
from the moment the POST was sent. Prints "ready" after loading the room for everyone,
starts on "go" from stdin, prints "done" after writing FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

import uvloop

BROWSER_CONNECTIONS = 6
TIMEOUT = 60.0
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
SET_COOKIE = re.compile(rb"^set-cookie:\s*([^=;\s]+)=([^;]*)", re.IGNORECASE | re.MULTILINE)


class HttpError(Exception):
    pass


@dataclass
class Answer:
    status: int
    headers: bytes
    body: bytes


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: bytes, body: bytes = b"") -> Answer:
        reused = self.writer is not None and not self.writer.is_closing()
        try:
            return await self._request(head, body)
        except HttpError as exc:
            # The server closed an idle keep-alive connection as the request went out:
            # nothing was read, so (as browsers do) send it again on a new connection.
            cause = exc.__cause__
            if reused and isinstance(cause, asyncio.IncompleteReadError) and not cause.partial:
                return await self._request(head, body)
            raise

    async def _request(self, head: bytes, body: bytes) -> Answer:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(head + body)
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
            status_line, _, headers = raw.partition(b"\r\n")
            status = int(status_line.split(b" ", 2)[1])
            lowered = headers.lower()
            length = re.search(rb"^content-length:\s*(\d+)", lowered, re.MULTILINE)
            if length is not None:
                content = await self.reader.readexactly(int(length.group(1)))
            elif b"transfer-encoding: chunked" in lowered:
                content = await self._chunked()
            else:
                content = await self.reader.read()
            if re.search(rb"^connection:\s*close", lowered, re.MULTILINE):
                self.close()
            return Answer(status, headers, content)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, IndexError) as exc:
            self.close()
            raise HttpError(repr(exc)) from exc

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Person:
    session: str
    cookies: dict[str, str] = field(default_factory=dict)
    token: str = ""
    idle: list[Connection] = field(default_factory=list)
    open: int = 0
    freed: asyncio.Event = field(default_factory=asyncio.Event)

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def remember(self, headers: bytes) -> None:
        for name, value in SET_COOKIE.findall(headers):
            self.cookies[name.decode()] = value.decode()


class Poster:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.host, self.port, self.slug = args.host, args.port, args.slug
        self.people = [Person(session=key, cookies={"sessionid": key}) for key in args.session]
        self.origin = f"http://{self.host}:{self.port}"
        self.room = f"/jams/{self.slug}/live/"
        self.records: list[dict[str, object]] = []
        self.late = 0

    async def connection(self, person: Person) -> Connection:
        while True:
            if person.idle:
                return person.idle.pop()
            if person.open < BROWSER_CONNECTIONS:
                person.open += 1
                return Connection(self.host, self.port)
            person.freed.clear()
            await person.freed.wait()

    def release(self, person: Person, conn: Connection) -> None:
        person.idle.append(conn)
        person.freed.set()

    async def load_room(self, person: Person) -> None:
        head = (
            f"GET {self.room} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Cookie: {person.cookie_header()}\r\nAccept: text/html\r\n\r\n"
        ).encode()
        conn = await self.connection(person)
        answer = await conn.request(head)
        self.release(person, conn)
        person.remember(answer.headers)
        match = CSRF_INPUT.search(answer.body)
        if answer.status != 200 or match is None or "csrftoken" not in person.cookies:
            raise SystemExit(f"page poster: the room did not give a compose form ({answer.status})")
        person.token = match.group(1).decode()

    async def post(self, n: int, due: float) -> None:
        person = self.people[n % len(self.people)]
        key = uuid.uuid4().hex
        body = urlencode(
            {
                "csrfmiddlewaretoken": person.token,
                "client_key": key,
                "body": f"Benchmark post {n}: what a jam sounds like when a thousand people "
                "read along and every answer lands at once.",
                "question": "auto",
            }
        ).encode()
        head = (
            f"POST /jams/{self.slug}/live/compose/ HTTP/1.1\r\n"
            f"Host: {self.host}:{self.port}\r\n"
            f"Cookie: {person.cookie_header()}\r\n"
            f"Origin: {self.origin}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n"
            "HX-Request: true\r\nHX-Target: compose\r\n"
            f"HX-Current-URL: {self.origin}{self.room}\r\n\r\n"
        ).encode()
        conn = await self.connection(person)
        sent = time.monotonic()
        if sent - due > 0.05:
            self.late += 1
        record: dict[str, object] = {"key": key, "sent": sent, "status": 0, "posted": False}
        try:
            answer = await asyncio.wait_for(conn.request(head, body), TIMEOUT)
            record["status"] = answer.status
            record["posted"] = b"Posted" in answer.body
            retry = re.search(rb"^retry-after:\s*(\S+)", answer.headers, re.I | re.M)
            if retry:
                record["retry_after"] = retry.group(1).decode()
            self.release(person, conn)
        except (TimeoutError, HttpError, OSError) as exc:
            conn.close()
            person.open -= 1
            person.freed.set()
            record["error"] = repr(exc)[:200]
        record["answered"] = time.monotonic()
        self.records.append(record)

    async def run(self) -> None:
        await asyncio.gather(*(self.load_room(p) for p in self.people))
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)
        total = max(1, round(self.args.rate * self.args.duration))
        started = time.monotonic()
        tasks = []
        for n in range(total):
            due = started + n / self.args.rate
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(self.post(n, due)))
        finished = time.monotonic()
        await asyncio.gather(*tasks)
        with open(self.args.results, "w") as out:
            json.dump(
                {
                    "posts": self.records,
                    "started": started,
                    "finished": finished,
                    "late": self.late,
                },
                out,
            )
        print("done", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="post through the compose box at a fixed rate")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slug", required=True)
    parser.add_argument("--session", action="append", required=True, help="a session key")
    parser.add_argument("--rate", type=float, required=True, help="posts per second, in all")
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    parser.add_argument("--results", required=True)
    uvloop.run(Poster(parser.parse_args()).run())


if __name__ == "__main__":
    main()
