"""Publishing and ingest under real concurrency: two workers on PostgreSQL, and a Celery
worker killed in the middle of posting or of a poll."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jamhost.networks.ingest import ingest_poll
from jamhost.networks.models import IngestCursor, Publication, XStatus
from jamhost.networks.publishing import post_publish
from jamhost.networks.sweep import networks_sweep
from jamhost.networks.tasks import ingest_jam
from jamhost.posts.services import post_compose
from tests.factories import live_jam
from tests.networks.conftest import link_x
from tests.networks.workers import celery_worker, kill
from tests.xstate import on_x

SEARCH = "/2/tweets/search/recent"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_post_once(x_server):  # type: ignore[no-untyped-def]
    jam = live_jam()
    account = link_x(x_server, jam.host)
    post = post_compose(jam=jam, user=jam.host, body="raced by two workers")
    # post_compose ran the on-commit publish already (eager); queue a fresh one to race.
    post.refresh_from_db()
    from jamhost.networks.post_state import post_network_set

    x_server.tweets.clear()
    post_network_set(post.pk, x={"status": XStatus.QUEUED, "x_id": None})
    Publication.objects.filter(post=post).update(done=False, lease_until=None, in_doubt=False)
    x_server.fault_next("/2/tweets", "slow_after_create", delay=0.6)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            outcomes.append(post_publish(post_id=post.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == ["busy", "published"]
    assert len(x_server.tweets_by(account.x_user_id)) == 1
    post.refresh_from_db()
    assert on_x(post).x_id == x_server.tweets_by(account.x_user_id)[0]["id"]


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_post_neither_loses_nor_duplicates(x_server, settings):  # type: ignore[no-untyped-def]
    jam = live_jam()
    account = link_x(x_server, jam.host)
    with celery_worker(settings, X_TIMEOUT="5") as worker:
        settings.X_TIMEOUT = 5.0
        # X creates the post, then the worker dies before the answer arrives.
        x_server.fault_next("/2/tweets", "slow_after_create", delay=30)
        post = post_compose(jam=jam, user=jam.host, body="the worker dies mid-call")
        deadline = time.monotonic() + 90
        while not x_server.requests_to("/2/tweets", "POST"):
            assert time.monotonic() < deadline, "the worker never posted"
            assert worker.poll() is None, "the worker stopped by itself"
            time.sleep(0.2)
        # Proof the kill overlapped the call: X has created the post, and the worker has
        # not recorded it yet (X holds its answer back).
        assert len(x_server.tweets_by(account.x_user_id)) == 1
        assert on_x(post).x_id is None
        kill(worker)

        post.refresh_from_db()
        assert on_x(post).status == XStatus.QUEUED  # not lost, not yet known
        lease = Publication.objects.get(post=post).lease_until
        assert lease is not None
        assert networks_sweep(now=lease - timedelta(seconds=1)).published == []

        # Once the dead worker's lease runs out the sweep tries again: it finds the post
        # on X and records it instead of posting a second time.
        networks_sweep(now=lease + timedelta(seconds=1))
        post.refresh_from_db()
        tweets = x_server.tweets_by(account.x_user_id)
        assert len(tweets) == 1
        assert on_x(post).status == XStatus.PUBLISHED
        assert on_x(post).x_id == tweets[0]["id"]
        assert len(x_server.requests_to("/2/tweets", "POST")) == 1


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_poll_leaves_a_lease_the_next_poll_takes_over(  # type: ignore[no-untyped-def]
    x_server, settings, caplog
):
    jam = live_jam()
    author = x_server.user_add("steady")
    ids = [x_server.tweet_add(author, f"answer {n} {jam.tag}") for n in range(30)]
    with celery_worker(settings, X_TIMEOUT="5", X_INGEST_LEASE_SECONDS="60") as worker:
        # The search hangs; the worker polling it is killed.
        x_server.fault_next(SEARCH, "slow", delay=30)
        ingest_jam.delay(jam.pk)
        deadline = time.monotonic() + 90
        while not x_server.requests_to(SEARCH):
            assert time.monotonic() < deadline, "the worker never searched"
            assert worker.poll() is None, "the worker stopped by itself"
            time.sleep(0.2)
        killed_at = timezone.now()
        kill(worker)

    cursor = IngestCursor.objects.get(jam=jam)
    assert cursor.lease_until is not None
    assert cursor.lease_until - killed_at <= timedelta(minutes=2)  # never 5 silent minutes
    assert ingest_poll(jam_id=jam.pk, now=cursor.lease_until - timedelta(seconds=1)).error
    with caplog.at_level(logging.WARNING, logger="jamhost.networks.leases"):
        result = ingest_poll(jam_id=jam.pk, now=cursor.lease_until + timedelta(seconds=1))
    assert result.error == "" and result.stored == len(ids)
    assert "taking over the lease of a poll that stopped" in caplog.text
