"""Real processes on loopback for the fault tests: a throwaway Redis, a migrated database
on the shared PostgreSQL, the web server (`python -m jamhost.serve`), a Celery worker, a
TCP proxy that can cut the database away, and a viewer that reconnects exactly as
static/js/live.js does.

Every process is started in its own process group and stopped by that group's id; every
wait is bounded. Nothing here touches the machine's shared Redis, or any database but the
one it creates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import psycopg

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout}s waiting for {what}")
        time.sleep(interval)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return True
    except OSError:
        return False


class Proc:
    """A child process in its own process group, with its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix=f"jh-{name}-", suffix=".log", delete=False
        )
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        self.popen = subprocess.Popen(
            self.args,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def send(self, sig: int) -> None:
        if self.alive:
            assert self.popen is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        """Stop the process group; SIGKILL if it does not exit in time. Returns the code."""
        if self.popen is None:
            return None
        self.send(sig)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            self.popen.wait(5)
        # Anything the process left behind in its group goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        return self.popen.returncode

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def cleanup(self) -> None:
        self.stop()
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)


def redis_server() -> tuple[Proc, int]:
    port = free_port()
    proc = Proc(
        "redis",
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        dict(os.environ),
    ).start()
    wait_for(lambda: port_open(port), 10, f"redis-server on {port}")
    return proc, port


def restart_redis(proc: Proc, port: int) -> Proc:
    proc.stop()
    new = Proc(proc.name, proc.args, proc.env).start()
    wait_for(lambda: port_open(port), 10, f"redis-server on {port}")
    return new


@dataclass
class FaultDatabase:
    """A database of its own on the shared PostgreSQL, migrated once, dropped at the end."""

    admin_url: str
    name: str = field(default_factory=lambda: f"jh_faults_{uuid.uuid4().hex[:10]}")

    @property
    def url(self) -> str:
        parsed = urlparse(self.admin_url)
        return urlunparse(parsed._replace(path=f"/{self.name}"))

    def url_via(self, port: int) -> str:
        parsed = urlparse(self.url)
        host = f"{parsed.username}@" if parsed.username else ""
        return urlunparse(parsed._replace(netloc=f"{host}127.0.0.1:{port}"))

    def _admin(self) -> psycopg.Connection[Any]:
        parsed = urlparse(self.admin_url)
        return psycopg.connect(
            urlunparse(parsed._replace(path="/postgres")), autocommit=True, connect_timeout=5
        )

    def create(self, env: dict[str, str]) -> None:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=dict(env, DATABASE_URL=self.url),
            check=True,
            timeout=120,
        )

    def drop(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, connect_timeout=5) as conn:
            return list(conn.execute(sql, params).fetchall())  # type: ignore[arg-type]


def base_env(**extra: str) -> dict[str, str]:
    """The environment of every process of a fault stack: production mode on loopback."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "PYTEST", "DJANGO_SETTINGS"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="jamhost.settings",
        SECRET_KEY="jamhost-fault-tests-" + uuid.uuid4().hex,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        DEBUG="false",
        LIVE_GAP_WAIT="0.2",
        LIVE_RESYNC_INTERVAL="1",
        CHANNEL_PREFIX=f"jh-faults-{uuid.uuid4().hex[:8]}",
        UVICORN_LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def jamctl(env: dict[str, str], *args: str, timeout: float = 60) -> Any:
    """Run tests/faults/jamctl.py with the stack's environment; its last line is JSON."""
    result = subprocess.run(
        [PYTHON, "-m", "tests.faults.jamctl", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"jamctl {args} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


class Web:
    """`python -m jamhost.serve` on a fixed port, restartable."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        self.proc: Proc | None = None
        self.logs: list[str] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        self.proc = Proc(
            "web",
            [PYTHON, "-m", "jamhost.serve", "--host", "127.0.0.1", "--port", str(self.port)],
            self.env,
        ).start()

        def ready() -> bool:
            assert self.proc is not None
            if not self.proc.alive:
                raise AssertionError(f"web server died on start:\n{self.proc.output()}")
            return http_get(self.base + "/", timeout=2)[0] != 0

        wait_for(ready, timeout, "the web server to answer", interval=0.2)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            self.proc.stop(sig)
            self.logs.append(self.proc.output())
            self.proc.cleanup()
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


def http_get(
    url: str, timeout: float = 5, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """(status, body); status 0 when nothing answered."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


class TcpProxy:
    """A loopback TCP proxy to the database that the test can cut and restore."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self.writers.difference_update((writer, up_writer))

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    def start(self) -> TcpProxy:
        self._call(self._start())
        return self

    def cut(self) -> None:
        """Refuse new connections and drop the open ones, as a database that went away."""
        self._call(self._cut())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._cut())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


# Viewers -------------------------------------------------------------------------------

POST = re.compile(r'<article[^>]*\bid="post-(\d+)"[^>]*>')
ATTR = re.compile(r'data-(rev|seq)="(\d+)"')
REMOVED = re.compile(r'class="post-removed" data-post="(\d+)" data-rev="(\d+)"')
REV = re.compile(r'data-rev="(\d+)"')
RECONNECT_CODES = {1006, 1011, 1012, 1013}


@dataclass
class Viewer:
    """A live-room socket that behaves as static/js/live.js: it tracks the last rev it
    applied, reconnects with ?after=<that rev> after 1006/1011/1012/1013, and applies a
    post only when its rev is newer than the one shown."""

    base_ws: str
    slug: str
    after: int = 0
    shown: dict[int, tuple[int, int]] = field(default_factory=dict)  # post id -> (seq, rev)
    applied: dict[int, int] = field(default_factory=dict)  # post id -> times applied anew
    close_codes: list[int] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # frames older than ?after= on connect
    connects: int = 0
    caught_up: int = 0  # caught-up markers received: one per (re)connect that completed

    @property
    def ready(self) -> bool:
        """Connected and caught up at least once."""
        return self.caught_up > 0

    def apply(self, frame: str, connected_after: int) -> None:
        if 'class="caught-up"' in frame:
            self.caught_up += 1
        for match in POST.finditer(frame):
            attrs = dict(ATTR.findall(match.group(0)))
            post_id, rev, seq = int(match.group(1)), int(attrs["rev"]), int(attrs["seq"])
            if rev <= connected_after:
                self.stale.append(f"post {post_id} rev {rev} after={connected_after}")
            current = self.shown.get(post_id)
            if current is None or current[1] < rev:
                self.shown[post_id] = (seq, rev)
                self.applied[post_id] = self.applied.get(post_id, 0) + 1
        for post_id, rev in REMOVED.findall(frame):
            current = self.shown.get(int(post_id))
            if current is not None and current[1] < int(rev):
                del self.shown[int(post_id)]
        for rev in REV.findall(frame):
            self.after = max(self.after, int(rev))

    def ordered(self) -> list[int]:
        return [pid for pid, _ in sorted(self.shown.items(), key=lambda item: item[1][0])]

    async def run(self, stop: asyncio.Event, origin: str) -> None:
        import websockets

        while not stop.is_set():
            url = f"{self.base_ws}/ws/jams/{self.slug}/live/?after={self.after}"
            try:
                async with websockets.connect(
                    url,
                    origin=origin,
                    open_timeout=3,
                    close_timeout=2,  # type: ignore[arg-type]
                ) as ws:
                    self.connects += 1
                    connected_after = self.after
                    while not stop.is_set():
                        try:
                            frame = await asyncio.wait_for(ws.recv(), 0.5)
                        except TimeoutError:
                            continue
                        self.apply(str(frame), connected_after)
                    return
            except websockets.ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd is not None else 1006
                self.close_codes.append(code)
                if code not in RECONNECT_CODES:
                    return  # htmx would not reconnect either: the test sees it stop
            except (OSError, TimeoutError, websockets.InvalidStatus, websockets.InvalidHandshake):
                pass  # the server is down: keep trying, as htmx's backoff does
            await asyncio.sleep(0.2)


# A signed-in person over HTTP -----------------------------------------------------------

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Person:
    """A browser-like HTTP client. The stack runs with DEBUG off, so its cookies are
    Secure; over loopback HTTP they are sent by hand, as a browser does for localhost."""

    def __init__(self, base: str) -> None:
        import requests

        self.base = base
        self.http = requests.Session()

    def _cookies(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)}

    def get(self, path: str, timeout: float = 10) -> Any:
        return self.http.get(self.base + path, headers=self._cookies(), timeout=timeout)

    def post(self, path: str, data: dict[str, str], timeout: float = 10, **headers: str) -> Any:
        token = self.http.cookies.get("csrftoken", "")
        return self.http.post(
            self.base + path,
            data=data,
            headers={**self._cookies(), "X-CSRFToken": token, **headers},
            timeout=timeout,
            allow_redirects=False,
        )

    def log_in(self, username: str, password: str) -> None:
        page = self.get("/accounts/login/")
        match = CSRF_INPUT.search(page.text)
        assert match, page.text[:500]
        answer = self.post(
            "/accounts/login/",
            {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1)},
        )
        assert answer.status_code == 302, answer.text[:500]

    def compose(self, slug: str, body: str) -> Any:
        return self.post(
            f"/jams/{slug}/live/compose/",
            {"body": body, "question": "auto", "client_key": uuid.uuid4().hex},
            **{"HX-Request": "true"},
        )
