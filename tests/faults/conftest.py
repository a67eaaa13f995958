from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.faults.stack import FaultDatabase, Proc, base_env, redis_server


@pytest.fixture(scope="session")
def fault_db() -> Iterator[FaultDatabase]:
    """One migrated database on the shared PostgreSQL for the whole fault suite; each test
    makes its own jam in it. Dropped at the end."""
    admin_url = os.environ.get("DATABASE_URL") or os.environ.get(
        "JAMHOST_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
    )
    database = FaultDatabase(admin_url)
    database.create(base_env())
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture
def own_redis() -> Iterator[dict[str, object]]:
    """A throwaway redis-server on a free port; never the machine's shared one."""
    proc, port = redis_server()
    holder: dict[str, object] = {"proc": proc, "port": port}
    try:
        yield holder
    finally:
        current = holder["proc"]
        assert isinstance(current, Proc)
        current.cleanup()
