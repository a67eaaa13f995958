"""`make bench ARGS="…"`: live fan-out end to end, on the real stack, against the
practical limit. See bench/README.md for every parameter and how to read the output.

For each server configuration in turn (--servers), on loopback:
  start the server pinned to --server-core; open the viewer and moderator websockets
  from the load client pinned to --client-core; post at --rate for --duration through
  posts.services.post_compose; wait for the frames to drain; stop everything.
Then print one row per configuration and the ratios between them.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.frames import latency_summary
from bench.report import Result, frames_analyse, ratios, storm_analyse, table
from bench.stack import (
    Child,
    cpu_seconds,
    free_port,
    process_tree,
    python,
    python_tree,
    rss_bytes,
    start_redis,
    wait_for_http,
)

MB = 1024 * 1024
REPO = Path(__file__).resolve().parent.parent
SERVERS = {
    # label: (how to start it, LIVE_FANOUT, CHANNEL_LAYER)
    "jamhost-hub": ("jamhost", "hub", "pubsub"),
    "bare": ("bare", "hub", "pubsub"),
    "jamhost-default-layer": ("jamhost", "layer", "default"),
    # The same app under granian instead of uvicorn (a measurement, not the runner).
    "jamhost-granian": ("granian", "hub", "pubsub"),
}
SERVER_ALIASES = {"jamhost": "jamhost-hub", "hub": "jamhost-hub", "layer": "jamhost-default-layer"}


@dataclass
class Bench:
    args: argparse.Namespace
    run_dir: Path
    env: dict[str, str]
    jam_id: int = 0
    slug: str = ""
    poster_id: int = 0
    cookie: str = ""
    # --via page: the session keys of the signed-in people who post through the page.
    sessions: list[str] = field(default_factory=list)


# Setup ------------------------------------------------------------------------------------


def database_ensure(url: str) -> None:
    """Create the benchmark's own database if it is missing (never touches another)."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def jam_prepare(bench: Bench) -> None:
    """A live jam with a released question, its host (who posts), and a moderator with a
    logged-in session (the cookie moderator sockets send)."""
    import django

    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from jamhost.jams import lifecycle, people, run_sheet, services
    from jamhost.jams.models import Role

    tag = secrets.token_hex(3)
    users = get_user_model().objects
    host = users.create_user(username=f"bench-host-{tag}", password=secrets.token_hex(8))
    moderator = users.create_user(username=f"bench-mod-{tag}", password=secrets.token_hex(8))
    jam = services.jam_create(
        host=host,
        title=f"Bench {tag}",
        hashtag=f"Bench{tag}",
        starts_at=timezone.now() + timedelta(minutes=5),
        duration_minutes=300,
    )
    for n in range(3):
        run_sheet.question_add(jam=jam, text=f"Benchmark question {n + 1}?", offset_minutes=n * 10)
    lifecycle.jam_schedule(jam=jam)
    jam = lifecycle.jam_go_live(jam=jam)
    run_sheet.question_release(question=jam.questions.order_by("number").first())  # type: ignore[arg-type]
    invite = people.invite_create(jam=jam, role=Role.MODERATOR, actor=host)
    people.invite_accept(token=invite.token, user=moderator)
    client = Client()
    client.force_login(moderator)
    bench.jam_id, bench.slug, bench.poster_id = jam.pk, jam.slug, host.pk
    if bench.args.via == "page":
        # Signed-in participants, as the compose box's users are; their sessions are made
        # here (a log-in through the form costs the server a password hash each).
        for n in range(bench.args.users):
            person = users.create_user(username=f"bench-p{n}-{tag}", password=None)
            session = Client()
            session.force_login(person)
            bench.sessions.append(session.cookies[settings.SESSION_COOKIE_NAME].value)
    bench.cookie = (
        f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    )


def jam_rev(bench: Bench) -> int:
    from django.db import close_old_connections

    from jamhost.jams.models import Jam

    close_old_connections()
    return Jam.objects.values_list("rev", flat=True).get(pk=bench.jam_id)


# Processes --------------------------------------------------------------------------------


def server_start(bench: Bench, label: str, workers: int, port: int, name: str) -> Child:
    kind, fanout, layer = SERVERS[label]
    env = dict(bench.env, LIVE_FANOUT=fanout, CHANNEL_LAYER=layer)
    if kind == "bare":
        argv = python(
            "bench.bare",
            "--port",
            str(port),
            "--redis-url",
            env["REDIS_URL"],
            "--channel-prefix",
            env["CHANNEL_PREFIX"],
            "--jam",
            str(bench.jam_id),
        )
    elif kind == "granian":
        argv = [
            str(Path(sys.executable).parent / "granian"),
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--runtime-mode",
            "st",
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            "jamhost.asgi:application",
        ]
    else:
        argv = python(
            "jamhost.serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)
        )
    server = Child(name, argv, core=bench.args.server_core, env=env, log_dir=bench.run_dir)
    wait_for_http(port, 60, server)
    if workers > 1:
        time.sleep(3)  # the first worker answers before the others have imported Django
    return server


def client_start(bench: Bench, port: int, viewers: int, moderators: int, name: str) -> Child:
    sockets = []
    if viewers:
        sockets += ["--socket", f"/ws/jams/{bench.slug}/live/:{viewers}"]
    if moderators:
        sockets += ["--socket", f"/ws/jams/{bench.slug}/console/:{moderators}:{bench.cookie}"]
    argv = python(
        "bench.client",
        "--port",
        str(port),
        "--after",
        str(jam_rev(bench)),
        "--results",
        str(bench.run_dir / f"{name}.pickle"),
        "--connect-concurrency",
        str(bench.args.connect_concurrency),
        *sockets,
    )
    return Child(name, argv, core=bench.args.client_core, env=bench.env, log_dir=bench.run_dir)


def poster_start(bench: Bench, label: str, name: str) -> Child:
    _kind, fanout, layer = SERVERS[label]
    argv = python(
        "bench.poster",
        "--jam",
        str(bench.jam_id),
        "--user",
        str(bench.poster_id),
        "--rate",
        str(bench.args.rate),
        "--duration",
        str(bench.args.duration),
        "--results",
        str(bench.run_dir / f"{name}.json"),
    )
    env = dict(bench.env, LIVE_FANOUT=fanout, CHANNEL_LAYER=layer)
    poster = Child(name, argv, core=bench.args.client_core, env=env, log_dir=bench.run_dir)
    expect(poster, "ready", 60)
    return poster


def page_poster_start(bench: Bench, port: int, name: str) -> Child:
    sessions = [arg for key in bench.sessions for arg in ("--session", key)]
    argv = python(
        "bench.page_poster",
        "--port",
        str(port),
        "--slug",
        bench.slug,
        "--rate",
        str(bench.args.rate),
        "--duration",
        str(bench.args.duration),
        "--results",
        str(bench.run_dir / f"{name}.json"),
        *sessions,
    )
    poster = Child(name, argv, core=bench.args.client_core, env=bench.env, log_dir=bench.run_dir)
    expect(poster, "ready", 120)
    return poster


def page_posts_saved(bench: Bench, record: dict[str, Any]) -> dict[str, int]:
    """client key -> rev of every post the page poster sent that the database holds."""
    from django.db import close_old_connections

    from jamhost.posts.models import Post

    close_old_connections()
    keys = [str(post["key"]) for post in record["posts"]]
    rows = Post.objects.filter(jam_id=bench.jam_id, client_key__in=keys)
    return dict(rows.values_list("client_key", "rev"))


def profiler_start(bench: Bench, pids: list[int], name: str) -> Child:
    """py-spy on the server's busiest process while posts flow: collapsed stacks (one
    line per stack, with its sample count) in the run directory."""
    pid = max(pids, key=lambda p: cpu_seconds([p]))
    argv = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, int(bench.args.duration))),
        "--rate",
        "250",
        "--nonblocking",
        # Only the thread holding the GIL: request threads waiting on PostgreSQL or
        # Redis would otherwise fill the profile with time that costs no CPU.
        "--gil",
        "--format",
        "raw",
        "--output",
        str(bench.run_dir / f"{name}.txt"),
    ]
    return Child(name, argv, core=bench.args.client_core, env=bench.env, log_dir=bench.run_dir)


def expect(child: Child, word: str, timeout: float) -> str:
    line = child.read_line(timeout)
    if not line.startswith(word) and not line.startswith("{"):
        raise RuntimeError(f"{child.name}: expected {word!r}, got {line!r}")
    return line


def client_event(child: Child, timeout: float) -> dict[str, Any]:
    while True:
        line = child.read_line(timeout)
        if line.startswith("{"):
            return dict(json.loads(line))


def client_status(child: Child) -> dict[str, Any]:
    child.send("status")
    return client_event(child, 30)


def client_finish(bench: Bench, child: Child) -> list[dict[str, Any]]:
    import pickle

    child.send("stop")
    client_event(child, 120)
    path = bench.run_dir / f"{child.name}.pickle"
    with open(path, "rb") as results:
        sockets: list[dict[str, Any]] = pickle.load(results)  # our own child's file
    if not bench.args.keep_logs:
        path.unlink()
    return sockets


@contextmanager
def running(children: list[Child]) -> Iterator[list[Child]]:
    """Stops every child started inside the block, whatever happens."""
    try:
        yield children
    finally:
        for child in reversed(children):
            child.stop()


# Phases -----------------------------------------------------------------------------------


def drain(bench: Bench, client: Child, expected_frames: int) -> None:
    """Wait until the client has every frame, or --drain seconds after the last post."""
    deadline = time.monotonic() + bench.args.drain
    while time.monotonic() < deadline:
        if client_status(client)["frames"] >= expected_frames:
            return
        time.sleep(0.1)


def phase_load(bench: Bench, label: str, workers: int, viewers: int, storm: bool) -> Result:
    """Connect, post for --duration, drain, count. With `storm`, restart the server a
    third of the way in and time how fast every viewer is caught up again."""
    args = bench.args
    moderators = args.moderators
    name = f"{label}-w{workers}-v{viewers}" + ("-storm" if storm else "")
    result = Result(
        label=label
        + (f"-w{workers}" if SERVERS[label][0] != "bare" else "")
        + ("-storm" if storm else ""),
        viewers=viewers,
        moderators=moderators,
        workers=workers,
    )
    port = free_port()
    sockets_wanted = viewers + moderators
    via_page = args.via == "page"
    with running([]) as children:
        server = server_start(bench, label, workers, port, f"{name}-server")
        children.append(server)
        server_pids = python_tree(server.pid)
        rss_idle = rss_bytes(server_pids)
        client = None
        if sockets_wanted:
            client = client_start(bench, port, viewers, moderators, f"{name}-client")
            children.append(client)
            ready = client_event(client, args.connect_timeout)
            result.connect_s = ready["seconds"]
            if ready["caught_up"] < sockets_wanted:
                result.notes.append(
                    f"only {ready['caught_up']} of {sockets_wanted} sockets caught up "
                    f"within {args.connect_timeout:.0f} s"
                )
        time.sleep(1.0)
        server_pids = python_tree(server.pid)
        rss_connected = rss_bytes(server_pids)
        if via_page:
            poster = page_poster_start(bench, port, f"{name}-poster")
        else:
            poster = poster_start(bench, label, f"{name}-poster")
        children.append(poster)
        cpu_start = cpu_seconds(server_pids)
        client_cpu_start = cpu_seconds([client.pid]) if client else 0.0
        poster_cpu_start = cpu_seconds([poster.pid])
        wall_start = time.monotonic()
        poster.send("go")
        profiler = None
        if args.profile and not storm:  # the storm profiles the restarted server
            profiler = profiler_start(bench, server_pids, f"{name}-profile")
            children.append(profiler)
        killed = stopped = up = 0.0
        if storm:
            time.sleep(args.duration / 3)
            killed = time.monotonic()
            server.stop(grace=10)
            stopped = time.monotonic()
            server = server_start(bench, label, workers, port, f"{name}-server2")
            children.append(server)
            up = time.monotonic()
            if args.profile:
                profiler = profiler_start(bench, python_tree(server.pid), f"{name}-profile")
                children.append(profiler)
        expect(poster, "done", args.duration + 180)
        poster_busy = (cpu_seconds([poster.pid]) - poster_cpu_start) / (
            time.monotonic() - wall_start
        )
        with open(bench.run_dir / f"{name}-poster.json") as posted:
            record = json.load(posted)
        if via_page:
            saved = page_analyse(bench, result, record)
        else:
            saved = {int(rev): float(t) for rev, t in record["saved"].items()}
        if client is not None:
            drain(bench, client, len(saved) * sockets_wanted)
        wall = time.monotonic() - wall_start
        server_pids = python_tree(server.pid)
        cpu = cpu_seconds(server_pids) - cpu_start
        client_busy = (cpu_seconds([client.pid]) - client_cpu_start) / wall if client else 0.0
        rss_loaded = rss_bytes(server_pids)
        if profiler is not None:  # let py-spy write its file
            profiler.proc.wait(args.duration + 30)
        sockets = client_finish(bench, client) if client is not None else []

    result.posts = len(saved)
    result.posts_per_s = len(saved) / (record["finished"] - record["started"])
    result.late_posts = int(record["late"])
    if not via_page:
        result.post_errors = int(record["error_count"])
        if record["errors"]:
            result.notes.append(f"poster errors, first: {record['errors'][0]}")
    frames_analyse(result, saved, sockets, record["started"])
    result.rss_idle_mb = rss_idle / MB
    result.rss_connected_mb = rss_connected / MB
    result.rss_loaded_mb = rss_loaded / MB
    if sockets_wanted:
        result.kb_per_connection = (rss_connected - rss_idle) / 1024 / sockets_wanted
    result.client_busy = client_busy
    result.poster_busy = poster_busy
    if storm:
        viewers_only = [s for s in sockets if s["audience"] == "viewer"]
        result.storm = storm_analyse(viewers_only, killed, up, args.storm_deadline)
        result.storm["server_stop_s"] = stopped - killed
    else:
        result.server_cpu_s = cpu
        result.us_per_frame = cpu / result.delivered * 1e6 if result.delivered else float("nan")
        requests = len(record["posts"]) if via_page else result.posts
        result.ms_per_post = cpu / requests * 1e3 if requests else float("nan")
    return result


def page_analyse(bench: Bench, result: Result, record: dict[str, Any]) -> dict[int, float]:
    """What the page poster saw, against what the database holds: {rev: time the POST was
    sent} of every stored post, and the answers' counts and latencies on `result`."""
    stored = page_posts_saved(bench, record)
    saved: dict[int, float] = {}
    answer_times = []
    for post in record["posts"]:
        status = int(post["status"])
        rev = stored.get(str(post["key"]))
        ok = 200 <= status < 300
        if rev is not None:
            saved[int(rev)] = float(post["sent"])
        if ok:
            answer_times.append(float(post["answered"]) - float(post["sent"]))
        else:
            result.non_2xx += 1
            result.statuses[str(status)] = result.statuses.get(str(status), 0) + 1
            if rev is not None:
                result.told_failed_but_stored += 1
        if ok and not post["posted"]:
            result.refused += 1
        if ok and post["posted"] and rev is None:
            result.told_posted_but_missing += 1
        if "error" in post and len(result.notes) < 3:
            result.notes.append(f"POST error: {post['error']}")
    result.post_requests = len(record["posts"])
    result.post_latency_ms = latency_summary(answer_times)
    return saved


def phase_idle(bench: Bench, label: str, connections: int) -> Result:
    """Server memory per idle viewer connection: RSS before and after `connections`
    viewers connect, with nothing posted."""
    name = f"{label}-idle-{connections}"
    result = Result(label=f"{label}-idle", viewers=connections, moderators=0, workers=1)
    port = free_port()
    with running([]) as children:
        server = server_start(bench, label, 1, port, f"{name}-server")
        children.append(server)
        pids = python_tree(server.pid)
        rss_idle = rss_bytes(pids)
        client = client_start(bench, port, connections, 0, f"{name}-client")
        children.append(client)
        ready = client_event(client, bench.args.connect_timeout)
        time.sleep(2.0)
        rss_connected = rss_bytes(python_tree(server.pid))
        result.connect_s = ready["seconds"]
        if ready["caught_up"] < connections:
            result.notes.append(f"only {ready['caught_up']} of {connections} connected")
        client_finish(bench, client)
    result.rss_idle_mb = rss_idle / MB
    result.rss_connected_mb = result.rss_loaded_mb = rss_connected / MB
    result.kb_per_connection = (rss_connected - rss_idle) / 1024 / max(1, ready["caught_up"])
    return result


# Command line -----------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="live fan-out benchmark (see bench/README.md)")
    p.add_argument("--viewers", type=int, default=1000)
    p.add_argument("--moderators", type=int, default=10)
    p.add_argument("--rate", type=float, default=20.0, help="posts per second")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of posting")
    p.add_argument(
        "--via",
        choices=["service", "page"],
        default="service",
        help="post by calling post_compose (service) or as signed-in people through the "
        "compose box over HTTP (page)",
    )
    p.add_argument("--users", type=int, default=50, help="--via page: signed-in posters")
    p.add_argument("--workers", default="1", help="server processes; a list runs each: 1,2")
    p.add_argument("--servers", default="jamhost-hub,bare,jamhost-default-layer")
    p.add_argument("--idle", type=int, default=0, help="also measure RSS with N idle viewers")
    p.add_argument("--storm", action="store_true", help="also run the connect storm")
    p.add_argument("--storm-deadline", type=float, default=10.0)
    p.add_argument("--skip-load", action="store_true", help="only --idle and --storm")
    p.add_argument(
        "--server-core",
        default="0",
        help="the server's core, or cores as taskset lists them (0,1: share the client's)",
    )
    p.add_argument("--client-core", type=int, default=1)
    p.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jamhost_bench"
        ),
    )
    p.add_argument("--redis-url", default="", help="default: start a redis-server of our own")
    p.add_argument("--drain", type=float, default=10.0, help="max seconds to wait for frames")
    p.add_argument("--connect-timeout", type=float, default=120.0)
    p.add_argument("--connect-concurrency", type=int, default=100)
    p.add_argument("--json", default="", help="also write the results to this file")
    p.add_argument("--keep-logs", action="store_true")
    p.add_argument(
        "--profile", action="store_true", help="py-spy the server while posting (keeps logs)"
    )
    args = p.parse_args(argv)
    args.servers = [SERVER_ALIASES.get(s, s) for s in args.servers.split(",") if s]
    unknown = [s for s in args.servers if s not in SERVERS]
    if unknown:
        p.error(f"unknown server(s) {unknown}; choose from {sorted(SERVERS)}")
    args.workers = [int(w) for w in str(args.workers).split(",")]
    args.keep_logs = args.keep_logs or args.profile
    return args


def machine() -> str:
    cores = os.cpu_count()
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    load = os.getloadavg()
    return f"{cores} cores, {total_kb / MB:.1f} GB RAM, load average {load[0]:.2f} at start"


def main(argv: list[str] | None = None) -> list[Result]:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # This process only waits and reads /proc, but keep even that off the server's core.
    os.sched_setaffinity(0, {args.client_core})
    run_dir = Path(tempfile.mkdtemp(prefix="jamhost-bench-"))
    prefix = f"bench-{secrets.token_hex(4)}"
    redis: Child | None = None
    results: list[Result] = []
    print(f"jamhost bench: {machine()}; logs in {run_dir}", flush=True)
    try:
        redis_url = args.redis_url
        if not redis_url:
            port = free_port()
            redis = start_redis(port, args.client_core, run_dir)
            redis_url = f"redis://127.0.0.1:{port}/0"
        env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
        env.update(
            DATABASE_URL=args.database_url,
            REDIS_URL=redis_url,
            CHANNEL_PREFIX=prefix,
            SECRET_KEY=secrets.token_hex(32),
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="false",
            LOG_LEVEL="WARNING",
            UVICORN_LOG_LEVEL="warning",
            # Raised so that the limits are counted (as in production) but never refuse.
            RATE_COMPOSE_USER="1000000/60",
            RATE_COMPOSE_ADDRESS="1000000/60",
            # Every bench socket comes from 127.0.0.1: no per-address cap here.
            LIVE_SOCKETS_PER_ADDRESS="1000000",
            PYTHONPATH=str(REPO),
            DJANGO_SETTINGS_MODULE="jamhost.settings",
        )
        os.environ.pop("DEBUG", None)
        os.environ.update(env)
        bench = Bench(args=args, run_dir=run_dir, env=env)
        database_ensure(args.database_url)
        migrate = Child(
            "migrate",
            [sys.executable, str(REPO / "manage.py"), "migrate", "--noinput"],
            core=args.client_core,
            env=env,
            log_dir=run_dir,
            stdout_pipe=False,
        )
        if migrate.proc.wait(300) != 0:
            raise RuntimeError(f"migrate failed; see {migrate.log_path}")
        migrate.stop()
        jam_prepare(bench)
        how = (
            f"through the page by {args.users} people"
            if args.via == "page"
            else "through post_compose"
        )
        print(
            f"jam {bench.slug} (id {bench.jam_id}); {args.viewers} viewers + {args.moderators} "
            f"moderators, {args.rate:g} posts/s for {args.duration:g} s "
            f"({how}); server on core "
            f"{args.server_core}, client/poster/Redis on core {args.client_core}",
            flush=True,
        )
        if not args.skip_load:
            for label in args.servers:
                if args.via == "page" and SERVERS[label][0] == "bare":
                    print(f"-- {label}: skipped (it has no compose box)", flush=True)
                    continue
                for workers in args.workers if SERVERS[label][0] != "bare" else [1]:
                    if label == "jamhost-default-layer" and workers != args.workers[0]:
                        continue
                    print(f"-- {label}, {workers} process(es)", flush=True)
                    results.append(phase_load(bench, label, workers, args.viewers, storm=False))
                    _progress(results[-1])
        if args.idle:
            for label in [s for s in args.servers if s != "jamhost-default-layer"]:
                print(f"-- {label}: {args.idle} idle viewers", flush=True)
                results.append(phase_idle(bench, label, args.idle))
                _progress(results[-1])
        if args.storm:
            print(f"-- connect storm: {args.viewers} viewers, server restarted", flush=True)
            results.append(
                phase_load(bench, "jamhost-hub", args.workers[0], args.viewers, storm=True)
            )
            _progress(results[-1])
    finally:
        if redis is not None:
            redis.stop()
        for pid in process_tree(os.getpid())[1:]:
            with suppress(ProcessLookupError):
                os.kill(pid, 15)
    report(results, args)
    if not args.keep_logs:
        shutil.rmtree(run_dir, ignore_errors=True)
    return results


def _progress(r: Result) -> None:
    line = (
        f"   p99 {r.latency_ms.get('p99', float('nan')):.0f} ms, delivered {r.delivered}, "
        f"lost {r.lost}, dup {r.duplicated}, {r.us_per_frame:.1f} µs/frame, "
        f"{r.kb_per_connection:.1f} KB/conn, client busy {r.client_busy:.0%}; "
        f"{r.ms_per_post:.2f} ms CPU/POST, POST p99 "
        f"{r.post_latency_ms.get('p99', float('nan')):.0f} ms, non-2xx {r.non_2xx}; "
        f"load average now {os.getloadavg()[0]:.2f}"
    )
    if r.storm:
        line += f"; storm {json.dumps(r.storm)}"
    for note in r.notes:
        line += f"\n   note: {note}"
    print(line, flush=True)


def _ms(summary: dict[str, float]) -> str:
    return " / ".join(f"{k} {v:.0f} ms" for k, v in summary.items())


def report(results: list[Result], args: argparse.Namespace) -> None:
    load = [r for r in results if not r.label.endswith("-idle") and not r.storm]
    if load:
        print()
        print(table(load))
        for line in ratios(load):
            print("  " + line)
    for r in results:
        if r.post_requests:
            print(
                f"{r.label}: {r.post_requests} POSTs through the page, {r.posts} stored; "
                f"POST latency {_ms(r.post_latency_ms)}; non-2xx {r.non_2xx} "
                f"{json.dumps(r.statuses) if r.statuses else ''}; answered 2xx without "
                f"'Posted' {r.refused}; told it failed but stored {r.told_failed_but_stored}; "
                f"told 'Posted' but not stored {r.told_posted_but_missing}; server CPU "
                f"{r.ms_per_post:.2f} ms per POST, {r.us_per_frame:.1f} µs per frame; "
                f"poster busy {r.poster_busy:.0%}"
            )
        if r.label.endswith("-idle"):
            print(
                f"{r.label}: {r.viewers} idle viewers, RSS {r.rss_idle_mb:.0f} -> "
                f"{r.rss_connected_mb:.0f} MB, {r.kb_per_connection:.1f} KB per connection"
            )
        if r.storm:
            s = r.storm
            print(
                f"connect storm: {s['sockets']} viewers; server down {s['server_down_s']:.1f} s; "
                f"all caught up {s['all_caught_up_after_up_s']:.1f} s after it was up "
                f"({s['all_caught_up_after_kill_s']:.1f} s after the restart began); "
                f"lost {r.lost}, dup {r.duplicated}, reconnects {r.reconnects}; "
                f"within {args.storm_deadline:g} s: {'yes' if s['within_deadline'] else 'NO'}"
            )
    if args.json:
        with open(args.json, "w") as out:
            json.dump([r.as_dict() for r in results], out, indent=1, default=str)


if __name__ == "__main__":
    main()
