"""The operator's view and the request bounds on a real server: two uvicorn workers,
PostgreSQL, a Redis of the test's own.

- An 800 MB upload is refused with 413 before its body is sent, and a chunked one as
  soon as it passes the cap; the server's memory does not grow with it.
- /metrics counts the open sockets of both workers whichever worker answers.
- /healthz answers 503 naming Redis and the broker while Redis is down, 200 again after.
"""

from __future__ import annotations

import asyncio
import select
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.stack import (
    Viewer,
    Web,
    base_env,
    http_get,
    jamctl,
    port_open,
    restart_redis,
    wait_for,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(150)]
LIMIT_MB = 20


def group_rss_mb(leader: int) -> float:
    """Resident memory of every process in the server's process group."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != leader:  # field 5, the process group
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1024


def raw_post(port: int, head: str, body_chunks: Any = ()) -> tuple[str, int]:
    """Send a request head and then body chunks until the server answers; return the
    answer's first bytes and how many body bytes went out before it came.

    Sending and reading go together (select), so a server that is slow to read under load
    is waited for, never mistaken for one that stopped reading."""
    chunks = iter(body_chunks)
    pending: bytes | None = b""
    answer = b""
    sent = 0
    deadline = time.monotonic() + 60
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head.encode())
        conn.setblocking(False)
        while b"\r\n\r\n" not in answer:
            left = deadline - time.monotonic()
            assert left > 0, f"no answer after {sent} body bytes: {answer[:200]!r}"
            writers = [conn] if pending is not None else []
            readable, writable, _ = select.select([conn], writers, [], left)
            if readable:
                more = conn.recv(65536)
                if not more:
                    break
                answer += more
            elif writable:
                if not pending:
                    pending = next(chunks, None)
                    if pending is None:
                        continue
                try:
                    done = conn.send(pending)
                except OSError:
                    pending = None  # the server closed the connection after answering
                    continue
                sent += done
                pending = pending[done:]
        return answer.decode("latin-1"), sent


def test_oversized_uploads_are_refused_before_they_are_read(fault_db: Any, own_redis: Any) -> None:
    env = base_env(
        DATABASE_URL=fault_db.url,
        REDIS_URL=f"redis://127.0.0.1:{own_redis['port']}/0",
        IMPORT_MAX_BYTES=str(LIMIT_MB * 1_000_000),
        WEB_CONCURRENCY="2",
    )
    web = Web(env)
    web.start()
    try:
        assert web.proc is not None and web.proc.popen is not None
        leader = web.proc.popen.pid
        before = group_rss_mb(leader)
        head = (
            "POST /import/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: multipart/form-data; boundary=xyz\r\n"
        )
        answer, sent = raw_post(web.port, head + "Content-Length: 800000000\r\n\r\n")
        assert answer.startswith("HTTP/1.1 413"), answer[:200]
        assert sent == 0
        # Chunked, no length given: cut off once past the cap (a few MB of socket buffers
        # may be on their way), not after 800 MB.
        chunk = b"%x\r\n%s\r\n" % (1 << 20, b"x" * (1 << 20))
        answer, sent = raw_post(
            web.port, head + "Transfer-Encoding: chunked\r\n\r\n", (chunk for _ in range(800))
        )
        assert answer.startswith("HTTP/1.1 413"), answer[:200]
        assert sent < (LIMIT_MB + 16) * (1 << 20), sent
        after = group_rss_mb(leader)
        assert after - before < 100, (before, after)
        print(f"chunked upload cut off after {sent / 2**20:.0f} MB; RSS {before:.0f}->{after:.0f}")
        log = web.proc.output()
        assert "refused POST /import/" in log and "Traceback" not in log
    finally:
        web.stop()


async def _watch(viewers: list[Viewer], stop: asyncio.Event, origin: str) -> None:
    await asyncio.gather(*(v.run(stop, origin) for v in viewers))


def _metrics(base: str) -> dict[str, Any]:
    status, text = http_get(base + "/metrics")
    assert status == 200, text[:300]
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_add_up_both_workers_and_healthz_names_what_failed(
    fault_db: Any, own_redis: Any
) -> None:
    redis_port = int(own_redis["port"])
    env = base_env(
        DATABASE_URL=fault_db.url,
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        WEB_CONCURRENCY="2",  # serve.py gives the workers one metrics directory
    )
    jam = jamctl(env, "setup")
    web = Web(env)
    web.start()
    viewers = [
        Viewer(f"ws://127.0.0.1:{web.port}", jam["slug"], after=jam["rev"]) for _ in range(6)
    ]
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    watcher = threading.Thread(
        target=loop.run_until_complete, args=(_watch(viewers, stop, web.base),), daemon=True
    )
    try:
        status, body = http_get(web.base + "/healthz")
        assert status == 200 and '"status": "ok"' in body, body
        watcher.start()
        wait_for(lambda: all(v.ready for v in viewers), 30, "every viewer to catch up")

        def open_sockets() -> tuple[float, int]:
            samples = _metrics(web.base)["jamhost_sockets_open"].samples
            return sum(s.value for s in samples), len({s.labels["pid"] for s in samples})

        # Whichever worker answers, it reports both workers' sockets, each under its pid.
        for _ in range(6):
            total, pids = open_sockets()
            assert total == 6 and pids == 2, (total, pids)
        assert "jamhost_frames_delivered" in _metrics(web.base)

        own_redis["proc"].stop()
        assert not port_open(redis_port)
        status, body = wait_for(
            lambda: (answer := http_get(web.base + "/healthz", timeout=10))[0] == 503 and answer,
            30,
            "healthz to notice Redis is down",
        )
        assert '"failed": ["broker", "redis"]' in body and '"database": "ok"' in body, body
        own_redis["proc"] = restart_redis(own_redis["proc"], redis_port)
        wait_for(lambda: http_get(web.base + "/healthz")[0] == 200, 30, "healthz to recover")
    finally:
        loop.call_soon_threadsafe(stop.set)
        watcher.join(10)
        web.stop()
