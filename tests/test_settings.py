"""One settings module, driven by the environment: the embedded default with nothing set,
PostgreSQL + Redis with DATABASE_URL and REDIS_URL, and a one-line stop without a
SECRET_KEY when DEBUG is off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRINT = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'db': settings.DATABASES['default']['ENGINE'], "
    "'layer': settings.CHANNEL_LAYERS['default']['BACKEND'], "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL}))"
)


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CELERY_EAGER"}
        and not k.startswith("PYTEST")
    }
    base["DJANGO_SETTINGS_MODULE"] = "jamhost.settings"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_secret_key_and_debug_off_startup_stops_with_one_line() -> None:
    result = run(PRINT)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0] and "Traceback" not in result.stderr


def test_nothing_set_is_the_embedded_default() -> None:
    result = run(PRINT, DEBUG="true")
    assert result.returncode == 0, result.stderr
    chosen = json.loads(result.stdout)
    assert chosen["db"] == "django.db.backends.sqlite3"
    assert chosen["layer"] == "channels.layers.InMemoryChannelLayer"
    assert chosen["eager"] is True


def test_database_and_redis_urls_select_postgresql_redis_and_celery() -> None:
    result = run(
        PRINT,
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://u@db.example:5432/jamhost",
        REDIS_URL="redis://redis.example:6379/0",
    )
    assert result.returncode == 0, result.stderr
    chosen = json.loads(result.stdout)
    assert chosen["db"] == "django.db.backends.postgresql"
    assert chosen["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert chosen["eager"] is False
    assert chosen["broker"] == "redis://redis.example:6379/0"


POOL = (
    "import json, django; from django.conf import settings; django.setup(); "
    "d = settings.DATABASES['default']; "
    "print(json.dumps({'pool': d['OPTIONS'].get('pool'), 'age': d['CONN_MAX_AGE'], "
    "'cache': settings.CACHES['default']['BACKEND']}))"
)


def test_postgresql_through_a_pool_bounded_by_the_request_threads() -> None:
    env = {"DEBUG": "true", "DATABASE_URL": "postgres://u@db:5432/jh", "REDIS_URL": "redis://r:1/0"}
    pooled = json.loads(run(POOL, **env, WEB_THREADS="6").stdout)
    assert pooled["pool"]["max_size"] == 10 and pooled["age"] == 0
    assert pooled["cache"] == "jamhost.shared_redis.SharedRedisCache"
    sized = json.loads(run(POOL, **env, DATABASE_POOL_SIZE="3").stdout)
    assert sized["pool"]["max_size"] == 3
    unpooled = json.loads(run(POOL, **env, DATABASE_POOL_SIZE="0").stdout)
    assert unpooled["pool"] is None and unpooled["age"] == 0
