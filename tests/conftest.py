from __future__ import annotations

import os

import pytest
from django.conf import settings

CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    # The test process itself runs without psycopg's pool. Tests start and end threads
    # freely (event loops, live servers, executors), and a thread that ends holding a
    # pooled connection never gives it back, so a long run would drain the pool. The
    # servers the process-level tests start (tests/faults, tests/e2e) use the pool as
    # production does, and tests/faults/test_connections.py measures it.
    settings.DATABASES["default"].get("OPTIONS", {}).pop("pool", None)


@pytest.hookimpl(trylast=True)  # after pytest-django's ordering by kind of database use
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Browser tests last: Playwright keeps an event loop running in the main thread until
    # the session ends, and an async test after it could not start its own.
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
    for item in items:
        needs = item.get_closest_marker("services") or item.get_closest_marker("faults")
        if needs and not (settings.DATABASE_URL and settings.REDIS_URL):
            if CI:
                continue  # let it fail: CI must run it against the real services
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL and Redis (run through `make test`)")
            )


@pytest.fixture(autouse=True)
def _fast_live_settings(settings):  # type: ignore[no-untyped-def]
    settings.LIVE_GAP_WAIT = 0.2
    settings.LIVE_RESYNC_INTERVAL = 0.5
    settings.HASHTAG_MARGIN_MINUTES = 30
    # The suite runs with DEBUG off, as production does, but over plain HTTP.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _clear_render_cache():  # type: ignore[no-untyped-def]
    from jamhost.posts import render

    render._cache.clear()
    yield
