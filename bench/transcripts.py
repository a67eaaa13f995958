"""Transcript benchmark: archive a 10,000-post jam, then time the replay page's first byte,
the whole page (the first part of the transcript), a part and a player page the browser
loads after it, and each export.

    .venv/bin/python -m bench.transcripts [--posts 10000] [--runs 5] [--database-url URL]

By default it runs on a fresh SQLite file in a temporary directory (the embedded
default). With --database-url postgres://…/jamhost_bench_transcripts it uses that
PostgreSQL database (created if missing; only ever that one) and deletes its jam after.
Posts are stored with bulk inserts: what is measured is archiving and reading, not posting.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from html import unescape as html_unescape
from typing import Any


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default="")
    return parser.parse_args()


def configure(args: argparse.Namespace) -> str:
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamhost.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ["LOG_LEVEL"] = "WARNING"
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
        _create_pg_database(args.database_url)
        return args.database_url.rsplit("/", 1)[-1]
    os.environ.pop("DATABASE_URL", None)
    path = os.path.join(tempfile.mkdtemp(prefix="jh-bench-"), "bench.sqlite3")
    os.environ["SQLITE_PATH"] = path
    return f"SQLite {path}"


def _create_pg_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def build(posts: int) -> Any:
    from django.utils import timezone

    from jamhost.jams import lifecycle
    from jamhost.jams.models import Jam, JamStatus, Membership, Question, Role
    from jamhost.posts.models import AuthorRole, Kind, Post
    from tests.factories import UserFactory

    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    host = UserFactory(username=f"bench_host_{int(time.time())}")
    jam = Jam.objects.create(
        title="Benchmark jam",
        slug=f"bench-{int(time.time())}",
        hashtag="BenchJam",
        hashtag_key="benchjam",
        host=host,
        starts_at=t0,
        status=JamStatus.LIVE,
        went_live_at=t0,
    )
    Membership.objects.create(jam=jam, user=host, role=Role.HOST)
    questions = [
        Question(
            jam=jam,
            number=n,
            text=f"Question {n}: what would you change?",
            offset_minutes=(n - 1) * 6,
            released_at=t0 + timedelta(minutes=(n - 1) * 6),
        )
        for n in range(1, 11)
    ]
    Question.objects.bulk_create(questions)
    panel = [f"panelist{n}" for n in range(12)]
    rows = []
    for seq in range(1, posts + 1):
        at = t0 + timedelta(seconds=seq * 3600 / posts)
        number = min(10, int((at - t0).total_seconds() // 360) + 1)
        question = questions[number - 1]
        is_question = seq == 1 or (seq > 1 and rows[-1].question_id != question.pk)
        author = "host" if is_question else (panel[seq % 12] if seq % 7 == 0 else f"p{seq % 900}")
        role = (
            AuthorRole.HOST
            if is_question
            else AuthorRole.PANELIST
            if author in panel
            else AuthorRole.PARTICIPANT
        )
        text = (
            f"Q{number}: {question.text} #BenchJam"
            if is_question
            else f"A{number}: answer {seq} with a link https://example.com/r/{seq % 50} #BenchJam"
        )
        post = Post(
            jam=jam,
            seq=seq,
            rev=seq,
            kind=Kind.QUESTION if is_question else Kind.POST,
            question=question,
            author_key=f"import:{author}",
            author_handle=author,
            author_name=author.title(),
            author_role=role,
            body=text,
            text=text,
            created_at=at,
            featured=seq % 97 == 0,
        )
        post.question_id = question.pk
        rows.append(post)
    Post.objects.bulk_create(rows, batch_size=2000)
    Jam.objects.filter(pk=jam.pk).update(last_seq=posts, rev=posts)
    lifecycle.jam_end(jam=Jam.objects.get(pk=jam.pk), now=t0 + timedelta(minutes=60))
    return Jam.objects.get(pk=jam.pk)


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    results = []
    value = None
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        results.append(time.perf_counter() - start)
    return statistics.median(results), value


def main() -> int:
    args = parse()
    where = configure(args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import AsyncClient, Client
    from django.test.utils import CaptureQueriesContext

    from jamhost.transcripts.memo import memo_clear
    from jamhost.transcripts.models import Transcript
    from jamhost.transcripts.services import jam_archive

    call_command("migrate", verbosity=0)
    print(f"database: {where}; posts: {args.posts}; runs: {args.runs} (medians)")
    # jam_end enqueues the archive on commit (eager here); time a clean run separately.
    jam = build(args.posts)
    Transcript.objects.filter(jam=jam).delete()
    type(jam).objects.filter(pk=jam.pk).update(status="ended")

    start = time.perf_counter()
    with transaction.atomic():
        transcript = jam_archive(jam_id=jam.pk)
        first_archive = time.perf_counter() - start
        start = time.perf_counter()
    # On commit the render task ran (eagerly here; a worker's job in production).
    render_after = time.perf_counter() - start
    again, _ = timed(lambda: jam_archive(jam_id=jam.pk), args.runs)
    size = len(transcript.content.encode())
    print(f"archive, first run:           {first_archive * 1000:8.0f} ms  ({size / 1e6:.1f} MB)")
    print(f"archive, again (idempotent):  {again * 1000:8.0f} ms")
    print(f"render posts (task on commit):{render_after * 1000:8.0f} ms")

    client = Client()
    url = f"/jams/{jam.slug}/transcript/"

    def first_byte(cold: bool) -> Any:
        if cold:
            memo_clear()  # as a fresh web process: read, check and parse the snapshot
        response = client.get(url)
        first = next(iter(response.streaming_content))
        return response, first

    def whole(cold: bool) -> int:
        if cold:
            memo_clear()
        return sum(len(chunk) for chunk in client.get(url).streaming_content)

    async def asgi_first_byte() -> float:
        # The ASGI handler, as uvicorn drives it: time to the first part of the body.
        memo_clear()
        start = time.perf_counter()
        response = await AsyncClient().get(url)
        async for _part in response.streaming_content:
            break
        spent = time.perf_counter() - start
        async for _part in response.streaming_content:
            pass
        return spent

    asgi_ttfb = statistics.median(asyncio.run(asgi_first_byte()) for _ in range(args.runs))
    ttfb_cold, _ = timed(lambda: first_byte(True), args.runs)
    page_cold, length = timed(lambda: whole(True), 1)
    ttfb_warm, _ = timed(lambda: first_byte(False), args.runs)
    page_warm, _ = timed(lambda: whole(False), args.runs)
    with CaptureQueriesContext(connection) as queries:
        whole(True)
    print(f"replay first byte, ASGI cold: {asgi_ttfb * 1000:8.0f} ms")
    print(f"replay first byte, cold:      {ttfb_cold * 1000:8.0f} ms")
    print(f"replay first byte, warm:      {ttfb_warm * 1000:8.0f} ms")
    print(
        f"replay whole page, cold:      {page_cold * 1000:8.0f} ms  ({length / 1e6:.1f} MB, "
        f"{len(queries)} queries)"
    )
    print(f"replay whole page, warm:      {page_warm * 1000:8.0f} ms")
    # What the browser asks for next: a placeholder's part, and a page of the player.
    page_html = "".join(
        c.decode() if isinstance(c, bytes) else c for c in client.get(url).streaming_content
    )
    part_src = re.search(r'data-src="([^"]+)"', page_html)
    play_url = re.search(r'data-play-url="([^"]+)"', page_html)
    for label, path in (
        ("a part (placeholder)", html_unescape(part_src.group(1)) if part_src else ""),
        ("a player page", f"{play_url.group(1)}2/" if play_url else ""),
    ):
        if not path:
            continue
        cold, _ = timed(lambda path=path: (memo_clear(), client.get(path)), args.runs)
        warm, _ = timed(lambda path=path: client.get(path), args.runs)
        print(f"{label + ', cold / warm:':30}{cold * 1000:8.0f} ms / {warm * 1000:.0f} ms")
    for fmt in ("json", "csv", "md", "html"):

        def export(fmt: str = fmt) -> Any:
            memo_clear()
            return client.get(f"/jams/{jam.slug}/transcript.{fmt}")

        spent, _ = timed(export, 3)
        print(f"export {fmt:5}, cold:           {spent * 1000:8.0f} ms")
    if args.database_url:
        type(jam).objects.filter(pk=jam.pk).delete()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    sys.exit(main())
