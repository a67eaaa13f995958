"""`make test`: the whole suite, twice over.

1. The embedded default: SQLite and the in-memory channel layer, no services needed.
2. The services run: PostgreSQL and Redis (JAMHOST_TEST_DATABASE_URL, JAMHOST_TEST_REDIS_URL),
   including the tests marked `services`, `faults` and `e2e`. With CI=true a service that
   cannot be reached fails the run; elsewhere the run is skipped with a note.

Extra arguments are passed to pytest (e.g. `python -m tests.run -k compose`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from urllib.parse import urlparse


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def pytest(env: dict[str, str], marker: str, extra: list[str]) -> int:
    cmd = [sys.executable, "-m", "pytest", "-m", marker, *extra]
    print("+", " ".join(cmd), flush=True)
    return subprocess.call(cmd, env=env)


def main() -> int:
    extra = sys.argv[1:]
    ci = os.environ.get("CI", "").lower() == "true"
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    base["CHANNEL_PREFIX"] = f"jamhost-test-{uuid.uuid4().hex[:8]}"

    print("== embedded default: SQLite, in-memory channel layer", flush=True)
    embedded = pytest(base, "not services and not faults and not e2e", extra)
    if embedded not in (0, 5):
        return embedded

    database_url = os.environ.get(
        "JAMHOST_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jamhost"
    )
    redis_url = os.environ.get("JAMHOST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    missing = [
        name
        for name, url, port in (("PostgreSQL", database_url, 5432), ("Redis", redis_url, 6379))
        if not reachable(url, port)
    ]
    if missing:
        where = ", ".join(missing)
        if ci:
            print(f"FAILED: {where} not reachable, and CI=true requires the services run.")
            return 1
        print(f"== services run skipped: {where} not reachable (set CI=true to require it).")
        return 0 if embedded in (0, 5) else embedded

    print("== services: PostgreSQL, Redis pub/sub, e2e and fault tests", flush=True)
    services_env = dict(base, DATABASE_URL=database_url, REDIS_URL=redis_url)
    result = pytest(services_env, "", extra)
    if result == 5 and embedded == 0:
        return 0
    return result


if __name__ == "__main__":
    sys.exit(main())
