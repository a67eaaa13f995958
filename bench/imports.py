"""Import benchmark: posts per second importing saved X search JSON and the CSV export,
through the real path (the upload stored in pieces, the job run as the import worker runs
it), each size in a fresh process so its peak memory is its own.

    .venv/bin/python -m bench.imports [--posts 10000,100000] [--formats x,csv]
                                      [--database-url postgres://…/jamhost_bench_imports]

By default each size runs on a fresh SQLite file in a temporary directory (the embedded
default). With --database-url it uses that PostgreSQL database (created if missing; only
ever that one). Import is CPU-bound: its numbers under load are pessimistic but mean
something; CPU seconds are printed next to wall seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

QUESTIONS = 10
AUTHORS = 900


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", default="10000,100000")
    parser.add_argument("--formats", default="x,csv")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--one", nargs=2, metavar=("FORMAT", "POSTS"), help=argparse.SUPPRESS)
    return parser.parse_args()


def x_search_json(posts: int) -> bytes:
    """Saved X API v2 recent-search pages of 100 posts, each with its authors in
    includes.users, indented as a person saving API answers would get them."""
    t0 = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
    pages = []
    for first in range(0, posts, 100):
        data, users = [], {}
        for n in range(first, min(posts, first + 100)):
            number = 1 + n * QUESTIONS // posts
            asks = n == (number - 1) * posts // QUESTIONS
            author = "1" if asks else str(2 + n % AUTHORS)
            users[author] = {
                "id": author,
                "username": f"person{author}",
                "name": f"Person {author}",
                "profile_image_url": f"https://pbs.twimg.com/profile_images/{author}/a_normal.jpg",
            }
            text = (
                f"Q{number}: what would you change about remote work? #BenchJam"
                if asks
                else f"A{number}: answer {n}, more at https://t.co/x{n % 50} #BenchJam"
            )
            data.append(
                {
                    "id": str(1900000000000000000 + n),
                    "text": text,
                    "author_id": author,
                    "created_at": (t0 + timedelta(seconds=3600 * n / posts)).strftime(
                        "%Y-%m-%dT%H:%M:%S.000Z"
                    ),
                    "entities": {
                        "urls": [
                            {
                                "url": f"https://t.co/x{n % 50}",
                                "expanded_url": f"https://example.org/r/{n % 50}",
                            }
                        ]
                    },
                    "public_metrics": {"like_count": n % 7, "retweet_count": n % 3},
                    "lang": "en",
                }
            )
        pages.append(
            {
                "data": data,
                "includes": {"users": list(users.values())},
                "meta": {"result_count": len(data)},
            }
        )
    return json.dumps(pages, indent=2).encode()


def export_csv(posts: int) -> bytes:
    """The transcript CSV export's columns, as jamhost writes them."""
    t0 = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
    lines = [
        "seq,time_utc,question,author_handle,author_name,role,text,source,link,pinned,featured"
    ]
    for n in range(posts):
        number = 1 + n * QUESTIONS // posts
        asks = n == (number - 1) * posts // QUESTIONS
        when = (t0 + timedelta(seconds=3600 * n / posts)).strftime("%Y-%m-%d %H:%M:%S")
        if asks:
            lines.append(
                f"{n + 1},{when},Q{number},host,Host,host,"
                f'"Q{number}: what would you change, and why? #BenchJam",app,,false,false'
            )
        else:
            who = n % AUTHORS
            lines.append(
                f"{n + 1},{when},Q{number},person{who},Person {who},participant,"
                f'"A{number}: answer {n}, more at https://example.org/r/{n % 50} #BenchJam",'
                "app,,false,false"
            )
    return ("\r\n".join(lines) + "\r\n").encode()


def configure(database_url: str) -> str:
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamhost.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ["LOG_LEVEL"] = "WARNING"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        from bench.transcripts import _create_pg_database

        _create_pg_database(database_url)
        return database_url.rsplit("/", 1)[-1]
    os.environ.pop("DATABASE_URL", None)
    path = os.path.join(tempfile.mkdtemp(prefix="jh-bench-imports-"), "bench.sqlite3")
    os.environ["SQLITE_PATH"] = path
    return "SQLite"


def one(file_format: str, posts: int, database_url: str) -> dict[str, Any]:
    """Import one generated file through the upload path; the numbers as a dict."""
    where = configure(database_url)
    import django

    django.setup()
    from django.core.management import call_command

    from jamhost.celery import app

    # The upload's task is left in the (in-memory) broker; the job is run here, as the
    # import worker runs it, so storing and importing are timed apart.
    app.conf.task_always_eager = False

    from jamhost.transcripts.importer import ImportOptions, import_job_create, import_job_run
    from jamhost.transcripts.models import ImportJob
    from tests.factories import UserFactory

    call_command("migrate", verbosity=0)
    payload = x_search_json(posts) if file_format == "x" else export_csv(posts)
    owner = UserFactory(username=f"bench_importer_{int(time.time() * 1000)}")
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    job = import_job_create(
        owner=owner,
        filename=f"bench.{'json' if file_format == 'x' else 'csv'}",
        chunks=(payload[i : i + 65536] for i in range(0, len(payload), 65536)),
        options=ImportOptions(file_format=file_format),
    )
    stored = time.perf_counter() - t0
    del payload
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        cProfile.runctx(
            "import_job_run(job_id=job.pk)", globals(), locals(), os.environ["BENCH_PROFILE"]
        )
    else:
        import_job_run(job_id=job.pk)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    job = ImportJob.objects.select_related("jam").get(pk=job.pk)
    assert job.status == "done", job.errors
    assert job.jam is not None and job.jam.posts.count() == posts
    return {
        "database": where,
        "format": file_format,
        "posts": posts,
        "bytes": job.size,
        "store_s": round(stored, 2),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "posts_per_s": round(posts / wall),
        "posts_per_cpu_s": round(posts / cpu),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_mb": round(start_rss / 1024),
    }


def main() -> int:
    args = parse()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.database_url)))
        return 0
    print(f"load average at start: {os.getloadavg()}")
    header = "format  posts     MB   store s   wall s   CPU s   posts/s   posts/CPU s   peak RSS MB"
    print(header)
    root = Path(__file__).resolve().parents[1]
    for file_format in args.formats.split(","):
        for posts in (int(p) for p in args.posts.split(",")):
            command = [sys.executable, "-m", "bench.imports", "--one", file_format, str(posts)]
            if args.database_url:
                command += ["--database-url", args.database_url]
            out = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
            if out.returncode:
                print(out.stdout, out.stderr, file=sys.stderr)
                return out.returncode
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{r['format']:<6} {r['posts']:>6} {r['bytes'] / 1e6:>6.1f} {r['store_s']:>9} "
                f"{r['wall_s']:>8} {r['cpu_s']:>7} {r['posts_per_s']:>9} "
                f"{r['posts_per_cpu_s']:>13} {r['peak_rss_mb']:>13}"
            )
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
