"""The web process restarted three times during a burst of posts: every viewer ends with
every visible post exactly once, in seq order."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading

import pytest

from tests.faults.stack import PYTHON, ROOT, Web, base_env, jamctl, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]

VIEWERS = 4
POSTS = 60
GAP = 0.3  # a post every 0.3 s: the burst outlasts the three restarts


async def _watch(viewers: list, stop: asyncio.Event, origin: str) -> None:
    await asyncio.gather(*(v.run(stop, origin) for v in viewers))


def test_three_web_restarts_during_a_burst_lose_and_repeat_nothing(fault_db, own_redis):
    from tests.faults.stack import Viewer

    env = base_env(DATABASE_URL=fault_db.url, REDIS_URL=f"redis://127.0.0.1:{own_redis['port']}/0")
    jam = jamctl(env, "setup")
    web = Web(env)
    web.start()
    viewers = [
        Viewer(base_ws=f"ws://127.0.0.1:{web.port}", slug=jam["slug"], after=jam["rev"])
        for _ in range(VIEWERS)
    ]
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    watcher = threading.Thread(
        target=loop.run_until_complete, args=(_watch(viewers, stop, web.base),), daemon=True
    )
    poster = None
    stored_at_restart: list[int] = []

    def stored() -> int:
        return int(
            fault_db.query("SELECT count(*) FROM posts_post WHERE jam_id = %s", jam["jam_id"])[0][0]
        )

    try:
        watcher.start()
        wait_for(lambda: all(v.ready for v in viewers), 20, "every viewer to catch up")
        baseline = stored()
        poster = subprocess.Popen(
            [PYTHON, "-m", "tests.faults.jamctl", "burst", jam["slug"], str(POSTS), str(GAP)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Each restart waits for the burst to move on by a tenth of its posts, so every
        # restart falls inside the burst, with posts stored before, between and after.
        for n in range(1, 4):
            wanted = baseline + n * POSTS // 10
            wait_for(lambda w=wanted: stored() >= w, 60, f"{n}/10 of the burst")
            stored_at_restart.append(stored())
            web.restart()  # SIGTERM, then a new process on the same port
        out, err = poster.communicate(timeout=60)
        assert poster.returncode == 0, err
        import json

        burst = json.loads(out.strip().splitlines()[-1])
        assert burst["errors"] == []
        expected = [post_id for post_id, _seq in sorted(burst["posts"], key=lambda p: p[1])]
        assert len(expected) == POSTS

        # Proof the faults overlapped the load: the burst was under way at each restart
        # and not over at the last one.
        first, second, third = stored_at_restart
        assert baseline < first < second < third < baseline + POSTS, (baseline, stored_at_restart)
        print("posts stored at each restart:", stored_at_restart)
        with contextlib.suppress(TimeoutError):
            wait_for(lambda: all(v.ordered() == expected for v in viewers), 20, "the catch-up")
    finally:
        loop.call_soon_threadsafe(stop.set)
        watcher.join(10)
        if poster is not None and poster.poll() is None:
            poster.kill()
        web.stop()

    for viewer in viewers:
        # Every post shown exactly once, in seq order, and each applied once only.
        assert viewer.ordered() == expected
        assert all(viewer.applied[post_id] == 1 for post_id in expected), viewer.applied
        # The server never resent what the socket already had (rev <= ?after=).
        assert viewer.stale == []
        # Each restart closed the socket with 1012 (service restart), so htmx reconnects.
        assert viewer.close_codes.count(1012) >= 3, viewer.close_codes
        assert set(viewer.close_codes) <= {1006, 1011, 1012, 1013}, viewer.close_codes
        assert viewer.connects >= 4
