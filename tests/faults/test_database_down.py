"""PostgreSQL unavailable: pages answer 503 with a plain message and no stack trace, and
recover by themselves when it returns. The web process reaches PostgreSQL through a TCP
proxy the test cuts and restores (the machine's PostgreSQL itself is never touched)."""

from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest

from tests.faults.stack import Person, TcpProxy, Web, base_env, http_get, jamctl

pytestmark = [pytest.mark.faults, pytest.mark.timeout(90)]

LEAKS = ("Traceback", "OperationalError", "psycopg", 'File "', "connection refused")


def _plain_503(status: int, body: str) -> None:
    assert status == 503, (status, body[:300])
    assert "cannot reach its database" in body
    for leak in LEAKS:
        assert leak.lower() not in body.lower(), leak


def test_pages_answer_503_while_the_database_is_away_and_recover(fault_db, own_redis):
    proxy = TcpProxy(urlparse(fault_db.url).port or 5432).start()
    env = base_env(
        DATABASE_URL=fault_db.url_via(proxy.port),
        REDIS_URL=f"redis://127.0.0.1:{own_redis['port']}/0",
    )
    jam = jamctl(dict(env, DATABASE_URL=fault_db.url), "setup")
    web = Web(env)
    try:
        web.start()
        host = Person(web.base)
        host.log_in(jam["host"], jam["password"])
        pages = ["/", f"/jams/{jam['slug']}/", f"/jams/{jam['slug']}/live/"]
        for page in pages:
            assert http_get(web.base + page)[0] == 200, page
            assert host.get(page).status_code == 200, page

        proxy.cut()
        for page in pages:
            _plain_503(*http_get(web.base + page))
            answer = host.get(page)  # signed in: the session itself needs the database
            _plain_503(answer.status_code, answer.text)
            assert answer.headers.get("Retry-After")
        # A post while the database is away is refused plainly, not half-stored.
        answer = host.compose(jam["slug"], "while the database is away")
        _plain_503(answer.status_code, answer.text)

        proxy.start()  # the database is back: no restart of the web process
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and http_get(web.base + "/")[0] != 200:
            time.sleep(0.2)
        for page in pages:
            assert http_get(web.base + page)[0] == 200, page
            assert host.get(page).status_code == 200, page
        assert host.compose(jam["slug"], "the database is back").status_code == 200
        bodies = fault_db.query(
            "SELECT body FROM posts_post WHERE jam_id = %s AND kind = 'post' ORDER BY seq",
            jam["jam_id"],
        )
        assert [b for (b,) in bodies] == ["the database is back"]
    finally:
        web.stop()
        proxy.close()
