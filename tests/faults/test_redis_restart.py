"""Redis stopped and restarted mid-jam: posting keeps working, and viewers catch up once
Redis is back (the hub resubscribes and resyncs from the database)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from tests.faults.stack import (
    Person,
    Viewer,
    Web,
    base_env,
    jamctl,
    port_open,
    restart_redis,
    wait_for,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(90)]


async def _watch(viewers: list[Viewer], stop: asyncio.Event, origin: str) -> None:
    await asyncio.gather(*(v.run(stop, origin) for v in viewers))


def _post_ids(fault_db, jam_id: int, after_rev: int) -> list[int]:
    """Visible posts the viewers (who joined at `after_rev`) must end up showing."""
    rows = fault_db.query(
        "SELECT id FROM posts_post WHERE jam_id = %s AND status = 'visible' AND rev > %s"
        " ORDER BY seq",
        jam_id,
        after_rev,
    )
    return [row[0] for row in rows]


def test_posting_survives_redis_down_and_viewers_catch_up(fault_db, own_redis):
    redis_url = f"redis://127.0.0.1:{own_redis['port']}/0"
    # The periodic DB check is pushed out of the way: only the Redis subscription (live
    # frames, and the resync it runs when it comes back) can deliver posts in this test.
    env = base_env(DATABASE_URL=fault_db.url, REDIS_URL=redis_url, LIVE_RESYNC_INTERVAL="600")
    jam = jamctl(env, "setup")
    web = Web(env)
    web.start()
    viewers = [
        Viewer(f"ws://127.0.0.1:{web.port}", jam["slug"], after=jam["rev"]) for _ in range(3)
    ]
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    watcher = threading.Thread(
        target=loop.run_until_complete, args=(_watch(viewers, stop, web.base),), daemon=True
    )
    try:
        watcher.start()
        panelist = Person(web.base)
        panelist.log_in(jam["panelist"], jam["password"])
        wait_for(lambda: all(v.ready for v in viewers), 20, "every viewer to catch up")

        before = [panelist.compose(jam["slug"], f"before the outage {n}") for n in range(3)]
        assert all(r.status_code == 200 and "Posted" in r.text for r in before), before[0].text
        first = _post_ids(fault_db, jam["jam_id"], jam["rev"])
        # Live frames through Redis (the periodic check is off).
        try:
            wait_for(lambda: all(v.ordered() == first for v in viewers), 10, "live frames")
        except TimeoutError:
            raise AssertionError(
                first,
                [(v.ordered(), v.connects, v.close_codes) for v in viewers],
                web.proc.output() if web.proc else "",
            ) from None

        redis_port = int(own_redis["port"])
        own_redis["proc"].stop()  # Redis goes away mid-jam
        during = []
        for n in range(5):
            down_before = not port_open(redis_port)
            started = time.monotonic()
            answer = panelist.compose(jam["slug"], f"while Redis is down {n}")
            took = time.monotonic() - started
            during.append((answer, took, down_before and not port_open(redis_port)))
        print("compose while Redis is down took", [round(t, 2) for _, t, _ in during])
        # Proof the fault overlapped the load: Redis refused connections before and
        # after each of the five posts.
        assert [down for _, _, down in during] == [True] * 5
        # The compose box answers, promptly, and every post is stored.
        for answer, took, _ in during:
            assert answer.status_code == 200 and "Posted" in answer.text, answer.text[:300]
            assert took < 5
        stored = _post_ids(fault_db, jam["jam_id"], jam["rev"])
        assert len(stored) == 8
        # A page still renders without Redis.
        assert panelist.get(f"/jams/{jam['slug']}/live/").status_code == 200

        # Nothing posted during the outage reached a viewer while Redis was down.
        assert all(v.ordered() == first for v in viewers), [v.ordered() for v in viewers]
        own_redis["proc"] = restart_redis(own_redis["proc"], redis_port)
        back = time.monotonic()
        try:
            wait_for(lambda: all(v.ordered() == stored for v in viewers), 20, "the catch-up")
        except TimeoutError:
            raise AssertionError([v.ordered() for v in viewers]) from None
        print("viewers caught up", round(time.monotonic() - back, 2), "s after Redis came back")

        # And live frames flow again through the new subscription.
        after = panelist.compose(jam["slug"], "after Redis came back")
        assert after.status_code == 200
        final = _post_ids(fault_db, jam["jam_id"], jam["rev"])
        wait_for(lambda: all(v.ordered() == final for v in viewers), 10, "the live frame")
    finally:
        loop.call_soon_threadsafe(stop.set)
        watcher.join(10)
        web.stop()
    for viewer in viewers:
        assert viewer.ordered() == final
        assert all(count == 1 for count in viewer.applied.values()), viewer.applied
        assert viewer.stale == []
