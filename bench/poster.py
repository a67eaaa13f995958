"""The poster: submits posts at a fixed rate through posts.services.post_compose, the
service the compose box calls, and records when each one was saved.

`python -m bench.poster --jam ID --user ID --rate R --duration S --results FILE`

Run with the server's DATABASE_URL, REDIS_URL, CHANNEL_PREFIX, LIVE_FANOUT and
CHANNEL_LAYER, so each post is committed to PostgreSQL and published (Redis PUBLISH, or
the channel layer's group_send) exactly as a web process would publish it.

"Saved" is the commit: the post is composed inside an outer transaction whose first
on-commit callback stamps the time, so the stamp comes before jamhost's own publish
callback (which renders the frames and hands them to Redis). Times are
time.monotonic(), one clock for every process on the machine.

Prints "ready" once Django is set up, starts on "go" from stdin, prints "done" after
writing FILE: a JSON object with the revs and commit times of every post.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description="post at a fixed rate")
    parser.add_argument("--jam", type=int, required=True)
    parser.add_argument("--user", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="posts per second")
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    parser.add_argument("--results", required=True)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from jamhost.jams.models import Jam
    from jamhost.posts.services import post_compose

    jam = Jam.objects.get(pk=args.jam)
    user = get_user_model().objects.get(pk=args.user)
    print("ready", flush=True)
    sys.stdin.readline()

    saved: dict[int, float] = {}
    late = 0
    errors: list[str] = []
    total = max(1, round(args.rate * args.duration))
    started = time.monotonic()
    for n in range(total):
        due = started + n / args.rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        elif wait < -0.05:
            late += 1
        stamp: list[float] = []
        try:
            with transaction.atomic():
                transaction.on_commit(lambda stamp=stamp: stamp.append(time.monotonic()))
                post = post_compose(
                    jam=jam,
                    user=user,
                    body=f"Benchmark post {n}: what a jam sounds like when a thousand "
                    "people read along and every answer lands at once.",
                )
            saved[post.rev] = stamp[0]
        except Exception as exc:
            errors.append(repr(exc))
    finished = time.monotonic()
    with open(args.results, "w") as out:
        json.dump(
            {
                "saved": saved,
                "started": started,
                "finished": finished,
                "late": late,
                "errors": errors[:20],
                "error_count": len(errors),
            },
            out,
        )
    print("done", flush=True)


if __name__ == "__main__":
    main()
