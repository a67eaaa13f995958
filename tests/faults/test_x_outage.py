"""The X-compatible server answering 429, 500, 503, garbage, half-answers and timeouts for
a whole minute while posts keep arriving under the hashtag: ingest, scheduled as the sweep
schedules it (ingest_due -> ingest_poll, with its back-off and 429 pauses), resumes and
ends with every post exactly once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.utils import timezone

from jamhost.networks.ingest import ingest_due, ingest_poll
from jamhost.posts.models import Post
from tests.factories import live_jam
from tests.networks.conftest import x_server  # noqa: F401 - the X-compatible server fixture

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

OUTAGE = 60.0  # seconds of faults
SEARCH = "/2/tweets/search/recent"
FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("429", {"reset_in": 2}),
    ("500", {}),
    ("503", {}),
    ("malformed", {}),
    ("slow", {"delay": 1.5}),  # past X_TIMEOUT (1 s): a timeout
    ("raw", {"status": 200, "body": {"data": "not a list", "meta": {"newest_id": "x"}}}),
    ("raw", {"status": 200, "body": b'{"data": [{"id": "1", "te'}),  # cut off mid-answer
    ("raw", {"status": 502, "body": b"<html>Bad gateway</html>"}),
]


def test_a_minute_of_x_faults_loses_and_repeats_nothing(x_server: Any, settings: Any) -> None:  # noqa: F811
    settings.SWEEP_INTERVAL = 0.25  # back-off steps from here (capped at 64x)
    jam = live_jam()
    authors = [x_server.user_add(f"outage{n}") for n in range(4)]
    posted: list[str] = []
    stop = threading.Event()

    def tweets() -> None:
        n = 0
        for tick in range(10_000):
            if stop.is_set():
                break
            # Now and then a burst, so that some polls span several pages (100 a page).
            for _ in range(30 if tick % 20 == 0 else 1):
                posted.append(x_server.tweet_add(authors[n % 4], f"answer {n} {jam.tag}"))
                n += 1
            time.sleep(0.3)

    writer = threading.Thread(target=tweets, daemon=True)
    started = time.monotonic()
    writer.start()
    polls = errors = 0
    try:
        while time.monotonic() - started < OUTAGE:
            if not x_server.faults:
                kind, options = FAULTS[polls % len(FAULTS)]
                x_server.fault_next(SEARCH, kind, **options)
            for jam_id in ingest_due(now=timezone.now()):
                result = ingest_poll(jam_id=jam_id)
                polls += 1
                errors += bool(result.error)
            time.sleep(0.2)
        stop.set()
        writer.join(5)
        with x_server.lock:
            x_server.faults.clear()
        during = Post.objects.filter(jam=jam, source="x").count()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for jam_id in ingest_due(now=timezone.now()):
                ingest_poll(jam_id=jam_id)
            if Post.objects.filter(jam=jam, source="x").count() >= len(posted):
                break
            time.sleep(0.2)
    finally:
        stop.set()
    stored = list(Post.objects.filter(jam=jam, source="x").values_list("external_id", flat=True))
    print(f"x outage: {len(posted)} posts, {polls} polls in the outage, {errors} failed")
    assert polls >= 10 and errors >= 10, (polls, errors)  # the outage was real
    assert during < len(posted)  # and it held posts back
    assert sorted(stored) == sorted(posted)  # every post, once
    seqs = list(Post.objects.filter(jam=jam).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))  # no gaps in the jam's numbering
