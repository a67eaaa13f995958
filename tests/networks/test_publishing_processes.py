"""Publishing under real concurrency: two workers on PostgreSQL, and a Celery worker
killed in the middle of posting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections

from jamhost.celery import app as celery_app
from jamhost.networks.models import Publication
from jamhost.networks.publishing import post_publish
from jamhost.networks.sweep import networks_sweep
from jamhost.posts.models import NetworkStatus, Post
from jamhost.posts.services import post_compose
from tests.factories import live_jam
from tests.networks.conftest import APP_BEARER, CLIENT_ID, link_x

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_post_once(x_server):  # type: ignore[no-untyped-def]
    jam = live_jam()
    account = link_x(x_server, jam.host)
    post = post_compose(jam=jam, user=jam.host, body="raced by two workers")
    # post_compose ran the on-commit publish already (eager); queue a fresh one to race.
    post.refresh_from_db()
    from jamhost.networks.publishing import post_network_set

    x_server.tweets.clear()
    post_network_set(post.pk, network_status=NetworkStatus.QUEUED, network_post_id=None)
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
    assert post.network_post_id == x_server.tweets_by(account.x_user_id)[0]["id"]


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_post_neither_loses_nor_duplicates(x_server, settings):  # type: ignore[no-untyped-def]
    jam = live_jam()
    account = link_x(x_server, jam.host)
    db = connections["default"].settings_dict
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "X_API_BASE_URL": settings.X_API_BASE_URL,
        "X_CLIENT_ID": CLIENT_ID,
        "X_BEARER_TOKEN": APP_BEARER,
        "X_TOKEN_KEY": settings.X_TOKEN_KEY,
        "X_TIMEOUT": "5",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "jamhost", "worker", "--pool=solo", "-l", "info"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    eager = celery_app.conf.task_always_eager
    try:
        celery_app.conf.task_always_eager = False
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
        assert Post.objects.get(pk=post.pk).network_post_id is None
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)

        post.refresh_from_db()
        assert post.network_status == NetworkStatus.QUEUED  # not lost, not yet known
        lease = Publication.objects.get(post=post).lease_until
        assert lease is not None
        assert networks_sweep(now=lease - timedelta(seconds=1)).published == []

        # Once the dead worker's lease runs out the sweep tries again: it finds the post
        # on X and records it instead of posting a second time.
        networks_sweep(now=lease + timedelta(seconds=1))
        post.refresh_from_db()
        tweets = x_server.tweets_by(account.x_user_id)
        assert len(tweets) == 1
        assert post.network_status == NetworkStatus.PUBLISHED
        assert post.network_post_id == tweets[0]["id"]
        assert len(x_server.requests_to("/2/tweets", "POST")) == 1
    finally:
        celery_app.conf.task_always_eager = eager
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
