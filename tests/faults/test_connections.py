"""Connections under ASGI: 500 posts through the page, from many clients at once, leave
PostgreSQL and Redis with a small, fixed number of connections from the web process,
whatever the number of request threads (each thread used to keep a connection of its
own until the garbage collector found it: 99 PostgreSQL connections for 78 threads,
234 Redis connections after 300 posts)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis

from tests.faults.stack import Person, Web, base_env, jamctl, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]

THREADS = 32  # request threads in the web process: many more than connections allowed
DATABASE_POOL_SIZE = 5
REDIS_MAX_CONNECTIONS = 4
CLIENTS = 20
POSTS = 500


def _database_connections(fault_db: Any) -> int:
    rows = fault_db.query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        fault_db.name,
    )
    return int(rows[0][0])


def _redis_connections(port: int) -> int:
    client = redis.Redis(port=port)
    try:
        return len([c for c in client.client_list() if int(c["id"]) != client.client_id()])
    finally:
        client.close()


def test_posting_through_the_page_keeps_connections_bounded(fault_db, own_redis):
    port = int(own_redis["port"])
    env = base_env(
        DATABASE_URL=fault_db.url,
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
        WEB_THREADS=str(THREADS),
        DATABASE_POOL_SIZE=str(DATABASE_POOL_SIZE),
        REDIS_MAX_CONNECTIONS=str(REDIS_MAX_CONNECTIONS),
        RATE_COMPOSE_USER="100000/60",
        RATE_COMPOSE_ADDRESS="100000/60",
    )
    jam = jamctl(env, "setup")
    web = Web(env)
    web.start()
    try:
        first = Person(web.base)
        first.log_in(jam["panelist"], jam["password"])
        people = [first]
        for _ in range(CLIENTS - 1):  # the same person in more tabs: one log-in
            tab = Person(web.base)
            tab.http.cookies.update(first.http.cookies)
            people.append(tab)
        peak = {"database": 0, "redis": 0}
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.2):
                peak["database"] = max(peak["database"], _database_connections(fault_db))
                peak["redis"] = max(peak["redis"], _redis_connections(port))

        def post(n: int) -> tuple[int, bool]:
            answer = people[n % CLIENTS].compose(jam["slug"], f"post {n} through the page")
            return answer.status_code, "Posted" in answer.text

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        # CLIENTS requests at once, the next round when they are all answered.
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = []
            for start in range(0, POSTS, CLIENTS):
                answers += list(pool.map(post, range(start, min(POSTS, start + CLIENTS))))
        done.set()
        watcher.join(5)

        assert answers.count((200, True)) == POSTS, {a: answers.count(a) for a in set(answers)}
        stored = fault_db.query(
            "SELECT count(*) FROM posts_post WHERE jam_id = %s AND body LIKE 'post %%'",
            jam["jam_id"],
        )
        assert stored[0][0] == POSTS
        print("peak connections while posting:", peak)
        # Redis: the shared client's pool; the hub and the channel layer hold none here
        # (no sockets). PostgreSQL: the pool.
        assert peak["database"] <= DATABASE_POOL_SIZE
        assert peak["redis"] <= REDIS_MAX_CONNECTIONS
        # And nothing is left over beyond the pools once the posting stops.
        wait_for(
            lambda: _database_connections(fault_db) <= DATABASE_POOL_SIZE,
            10,
            "PostgreSQL connections to settle",
        )
        assert _redis_connections(port) <= REDIS_MAX_CONNECTIONS
    finally:
        web.stop()
