"""The real stack for browser tests: a live uvicorn server (`python -m jamhost.serve`) in its
own process group, on its own database, driven by Debian's Chromium through Playwright.

With DATABASE_URL and REDIS_URL set (the services run of `make test`) the server gets a
fresh PostgreSQL database and a unique Redis channel prefix, and the archive runs in-process
(CELERY_EAGER). Without them it runs the embedded default on a throwaway SQLite file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
from axe_playwright_python.sync_playwright import Axe

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CI = os.environ.get("CI", "").lower() == "true"
AXE = Axe()
START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        # Its own session, so stopping it takes uvicorn and anything it started.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jamhost.serve", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"server did not answer within {START_TIMEOUT}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None:
            return
        pgid = self.process.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.process = None

    def manage(self, *args: str) -> str:
        """Run a management command against the server's database."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout


class CuttableProxy:
    """A TCP proxy in front of the server for one person's browser: `cut()` drops every
    connection through it at once and refuses new ones until `restore()`, as a flaky
    network would. (Chromium's offline emulation leaves open WebSockets alone.)"""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = threading.Event()
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), 5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.down.set()
        with self.lock:
            conns, self.open = self.open, set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def restore(self) -> None:
        self.down.clear()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def _database_url_with_name(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path="/" + name))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_database_url_with_name(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def jamhost_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    run_id = secrets.token_hex(4)
    env.update(
        DJANGO_SETTINGS_MODULE="jamhost.settings",
        SECRET_KEY=secrets.token_urlsafe(40),
        DEBUG="false",
        ALLOWED_HOSTS="localhost,127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        CELERY_EAGER="true",
        SWEEP_INTERVAL="1",
        LIVE_RESYNC_INTERVAL="2",
        UVICORN_LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
        # Offered, though nothing is linked unless a test links it (no network is called).
        BLUESKY_ENABLED="true",
        MASTODON_ENABLED="true",
    )
    base_db = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    db_name = f"jh_e2e_{run_id}"
    if base_db and redis_url:
        _admin(base_db, f'CREATE DATABASE "{db_name}"')
        env.update(
            DATABASE_URL=_database_url_with_name(base_db, db_name),
            REDIS_URL=redis_url,
            CHANNEL_PREFIX=f"jh-e2e-{run_id}",
        )
    else:
        env["SQLITE_PATH"] = str(tmp_path_factory.mktemp("e2e") / "jamhost.sqlite3")
    logs = ROOT / "artifacts"
    logs.mkdir(exist_ok=True)
    server = LiveServer(env=env, log_path=logs / "e2e-server.log")
    # SITE_URL stays unset, as on a fresh clone: links follow the address each request
    # came to (a person behind a CuttableProxy gets the proxy's port in their links).
    server.log_path.write_bytes(b"")
    try:
        server.manage("migrate", "--noinput")
        server.start()
        yield server
    finally:
        server.stop()
        if base_db and redis_url:
            _admin(base_db, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM} (.ci/run installs Debian's chromium)"
        if CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # A shared 2-core machine: give each expectation time, not just a fast desktop's.
    expect.set_options(timeout=15_000)
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            timeout=60_000,
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def new_context(
    browser: Any, *, phone: bool = False, dark: bool = False, viewport: dict | None = None
) -> Any:
    """A person's own browser: cookies, storage and viewport of their own."""
    if viewport is None:
        viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(
        viewport=viewport,
        color_scheme="dark" if dark else "light",
        # Still screenshots and axe's contrast check must not catch a post mid-animation.
        reduced_motion="reduce",
        timezone_id="UTC",
        locale="en-GB",
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=1,
    )
    context.set_default_timeout(15_000)
    return context


def watch_errors(page: Any, problems: list[str]) -> None:
    """Collect script errors and Content-Security-Policy refusals the page hits."""

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))


def axe_check(page: Any, name: str) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now (axe-core as
    axe-playwright-python packages it)."""
    # Axe.run evaluates axe over the DevTools protocol: the page's Content-Security-Policy
    # forbids injected <script> tags, rightly, and the test must not weaken it.
    response = AXE.run(page, options={"resultTypes": ["violations"]}).response
    result = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [
                " ".join(map(str, n["target"])) + " :: " + (n.get("failureSummary") or "")
                for n in v["nodes"][:5]
            ],
        }
        for v in response["violations"]
    ]
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    for v in bad:
        v["page"] = name
    return bad
