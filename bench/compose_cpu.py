"""`python -m bench.compose_cpu`: the server CPU one compose POST costs, through the page.

Starts jamhost (`python -m jamhost.serve`, one process) pinned to --server-core, makes a
live jam and --users signed-in people (their sessions made directly, as `make bench
--via page` does), loads the room once per person (the CSRF cookie and the form's token),
then posts through the compose box over keep-alive HTTP as the htmx form does (session
and CSRF cookies, `csrfmiddlewaretoken`, a fresh `client_key`, htmx's headers, `Origin`)
from a closed loop of --concurrency requests in flight, pinned to --client-core. No
sockets are open: this is the cost of the POST alone (the view, the rate check, the
post's transaction, the fragment render and its publishing, the compose box answered).

It reads the server's user + system CPU time from /proc before and after --posts POSTs
(after --warmup POSTs that are not counted), and prints the CPU per POST, the POSTs per
second the closed loop reached (at most 1 / CPU per POST on one core), the latencies,
and checks that every POST was answered "Posted" and is stored once.

The database is the embedded default (a SQLite file of its own in a temporary directory)
unless DATABASE_URL is set; REDIS_URL likewise (rate limits, publishing). Set both for
the production-like case:

  DATABASE_URL=postgres://… REDIS_URL=redis://… CHANNEL_PREFIX=… python -m bench.compose_cpu

--profile FILE: py-spy (the GIL holder only, 250 Hz) on the server during the counted
POSTs, raw collapsed stacks written to FILE and summarised (bench.stacks).
--calls: the server runs under cProfile on every thread (bench.profiled_serve); prints
the functions with the most own time and their calls per POST. Its times are inflated by
the profiler; use it for call counts and for where the time goes relative to the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from bench.page_poster import CSRF_INPUT, Connection, Person
from bench.stack import Child, cpu_seconds, free_port, python, python_tree, wait_for_http

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="server CPU per compose POST (see module doc)")
    p.add_argument("--posts", type=int, default=2000, help="POSTs counted")
    p.add_argument("--warmup", type=int, default=300, help="POSTs first, not counted")
    p.add_argument("--users", type=int, default=20, help="signed-in people posting")
    p.add_argument("--concurrency", type=int, default=4, help="POSTs in flight")
    p.add_argument("--server-core", default="0")
    p.add_argument("--client-core", type=int, default=1)
    p.add_argument("--profile", default="", help="py-spy the server; raw stacks to this file")
    p.add_argument("--calls", action="store_true", help="cProfile the server (all threads)")
    p.add_argument(
        "--instructions",
        action="store_true",
        help="run the server under valgrind's callgrind and count instructions per POST",
    )
    p.add_argument("--top", type=int, default=40, help="lines of --profile / --calls output")
    p.add_argument("--keep", action="store_true", help="keep the run directory (logs)")
    return p.parse_args(argv)


def environment(run_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    if not env.get("DATABASE_URL"):
        env["SQLITE_PATH"] = str(run_dir / "bench.sqlite3")
    env.setdefault("CHANNEL_PREFIX", f"bench-{secrets.token_hex(4)}")
    env.update(
        SECRET_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        UVICORN_LOG_LEVEL="warning",
        # Raised so that the limits are counted (as in production) but never refuse.
        RATE_COMPOSE_USER="1000000/60",
        RATE_COMPOSE_ADDRESS="1000000/60",
        PYTHONPATH=str(REPO),
        DJANGO_SETTINGS_MODULE="jamhost.settings",
    )
    return env


def prepare(args: argparse.Namespace, env: dict[str, str], run_dir: Path) -> tuple[str, list[str]]:
    """Migrate, then a live jam and the people's sessions: (slug, session keys)."""
    migrate = Child(
        "migrate",
        [sys.executable, str(REPO / "manage.py"), "migrate", "--noinput"],
        core=args.client_core,
        env=env,
        log_dir=run_dir,
        stdout_pipe=False,
    )
    if migrate.proc.wait(300) != 0:
        raise SystemExit(f"migrate failed; see {migrate.log_path}")
    migrate.stop()
    from bench.fanout import Bench, jam_prepare

    bench = Bench(args=argparse.Namespace(via="page", users=args.users), run_dir=run_dir, env=env)
    jam_prepare(bench)
    from django.db import connections

    connections.close_all()
    return bench.slug, bench.sessions


class Posting:
    """A closed loop of POSTs through the compose box."""

    def __init__(self, port: int, slug: str, sessions: list[str]) -> None:
        self.port, self.slug = port, slug
        self.origin = f"http://127.0.0.1:{port}"
        self.room = f"/jams/{slug}/live/"
        self.people = [Person(session=key, cookies={"sessionid": key}) for key in sessions]
        self.keys: list[str] = []
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.next = 0

    async def load_rooms(self) -> None:
        for person in self.people:
            conn = Connection("127.0.0.1", self.port)
            head = (
                f"GET {self.room} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Cookie: {person.cookie_header()}\r\nAccept: text/html\r\n\r\n"
            ).encode()
            answer = await conn.request(head)
            person.remember(answer.headers)
            match = CSRF_INPUT.search(answer.body)
            if answer.status != 200 or match is None or "csrftoken" not in person.cookies:
                raise SystemExit(f"the room gave no compose form ({answer.status})")
            person.token = match.group(1).decode()
            conn.close()

    async def post(self, n: int, conn: Connection) -> None:
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
            f"Host: 127.0.0.1:{self.port}\r\n"
            f"Cookie: {person.cookie_header()}\r\n"
            f"Origin: {self.origin}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n"
            "HX-Request: true\r\nHX-Target: compose\r\n"
            f"HX-Current-URL: {self.origin}{self.room}\r\n\r\n"
        ).encode()
        started = time.perf_counter()
        answer = await conn.request(head, body)
        self.latencies.append(time.perf_counter() - started)
        self.keys.append(key)
        if answer.status != 200 or b"Posted" not in answer.body:
            self.failures.append(f"{answer.status}: {answer.body[:200]!r}")

    async def run(self, count: int, concurrency: int) -> float:
        """POST `count` times, `concurrency` at once; the seconds it took."""
        self.next, end = 0, count
        self.latencies, self.keys = [], []

        async def worker() -> None:
            conn = Connection("127.0.0.1", self.port)
            try:
                while self.next < end:
                    n = self.next
                    self.next += 1
                    await self.post(n, conn)
            finally:
                conn.close()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def stored(keys: list[str]) -> int:
    from django.db import close_old_connections

    from jamhost.posts.models import Post

    close_old_connections()
    found = 0
    for start in range(0, len(keys), 500):
        found += Post.objects.filter(client_key__in=keys[start : start + 500]).count()
    return found


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.sched_setaffinity(0, {args.client_core})
    run_dir = Path(tempfile.mkdtemp(prefix="jamhost-compose-cpu-"))
    env = environment(run_dir)
    os.environ.clear()
    os.environ.update(env)
    where = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite (embedded)"
    where += " + Redis" if env.get("REDIS_URL") else ", no Redis"
    load = os.getloadavg()[0]
    print(f"compose_cpu: {where}; {os.cpu_count()} cores, load average {load:.2f} at start")
    slug, sessions = prepare(args, env, run_dir)
    port = free_port()
    serve = ["jamhost.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    argv = python(*serve)
    if args.calls:
        argv = python("bench.profiled_serve", str(run_dir / "calls.pstats"), *serve[1:])
    if args.instructions:
        argv = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={run_dir / 'callgrind.out.%p'}",
            *argv,
        ]
    server = Child("server", argv, core=args.server_core, env=env, log_dir=run_dir)
    profiler: Child | None = None
    try:
        wait_for_http(port, 600 if args.instructions else 60, server)
        posting = Posting(port, slug, sessions)
        asyncio.run(posting.load_rooms())
        asyncio.run(posting.run(args.warmup, args.concurrency))
        pids = python_tree(server.pid)
        if args.profile:
            profiler = py_spy(args, run_dir, max(pids, key=lambda p: cpu_seconds([p])))
        if args.instructions:
            callgrind_control(run_dir, "--zero", pids)
            callgrind_control(run_dir, "--instr=on", pids)
        cpu_before = cpu_seconds(pids)
        seconds = asyncio.run(posting.run(args.posts, args.concurrency))
        cpu = cpu_seconds(pids) - cpu_before
        if args.instructions:
            callgrind_control(run_dir, "--instr=off", pids)
            callgrind_control(run_dir, "--dump", pids)
        if profiler is not None:
            profiler.proc.send_signal(2)  # SIGINT: py-spy writes what it has
            profiler.proc.wait(60)
    finally:
        if profiler is not None:
            profiler.stop()
        server.stop(grace=20)
    found = stored(posting.keys)
    lat = sorted(posting.latencies)
    print(
        f"{args.posts} POSTs ({args.users} people, {args.concurrency} in flight): "
        f"server CPU {cpu * 1000 / args.posts:.2f} ms per POST; "
        f"{args.posts / seconds:.0f} POSTs/s; latency p50 "
        f"{statistics.median(lat) * 1000:.1f} ms, p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms; "
        f"stored {found} of {args.posts}; failed {len(posting.failures)}"
    )
    for failure in posting.failures[:5]:
        print("  failed:", failure)
    if args.profile:
        from bench.stacks import summarise

        print(summarise(args.profile, args.top))
    if args.instructions:
        instructions_report(run_dir, args.posts)
    if args.calls:
        calls_report(run_dir / "calls.pstats", args.posts + args.warmup, args.top)
    if args.keep:
        print(f"run directory: {run_dir}")
    else:
        shutil.rmtree(run_dir, ignore_errors=True)
    if posting.failures or found != args.posts:
        raise SystemExit(1)


def py_spy(args: argparse.Namespace, run_dir: Path, pid: int) -> Child:
    argv = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--rate",
        "250",
        "--nonblocking",
        # Only the thread holding the GIL: time waiting on the database costs no CPU.
        "--gil",
        "--format",
        "raw",
        "--output",
        args.profile,
    ]
    return Child("py-spy", argv, core=args.client_core, env=dict(os.environ), log_dir=run_dir)


def callgrind_control(run_dir: Path, what: str, pids: list[int]) -> None:
    import subprocess

    for pid in pids:
        subprocess.run(["callgrind_control", what, str(pid)], check=False, capture_output=True)


def instructions_report(run_dir: Path, posts: int) -> None:
    """Instructions executed by the server while the counted POSTs ran (callgrind's
    dump: every thread, valgrind's own work left out): independent of the machine's load,
    unlike CPU time."""
    total = 0
    for path in run_dir.glob("callgrind.out.*"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):  # "summary:" stays 0 after a --zero
                total += int(line.split()[1])
    print(f"instructions: {total / posts / 1e6:.2f} M per POST (callgrind, every thread)")


def calls_report(path: Path, posts: int, top: int) -> None:
    import pstats

    if not path.exists():
        print(f"no cProfile output at {path}")
        return
    stats = pstats.Stats(str(path))
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"cProfile (every thread, warm-up included: {posts} POSTs), {total:.2f} s own time")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    print("   own%   cum%  calls/POST  function")
    for (file, line, name), (_cc, calls, own, cum, _callers) in rows[:top]:
        where = f"{Path(file).name}:{line}({name})" if line else name
        print(f"{own / total:7.1%} {cum / total:6.1%} {calls / posts:10.1f}  {where}")


if __name__ == "__main__":
    main()
