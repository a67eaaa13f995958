"""The operator's view: /healthz (is this process fit to serve?) and /metrics (Prometheus).

/healthz checks the database, Redis (channel layer, live fan-out, cache) and the Celery
broker, each with a short timeout, and answers 200 when all hold, else 503, with a JSON
body naming each check and what failed. In the embedded default Redis and the broker are
not used and are reported so.

/metrics is prometheus_client's text format: what the processes counted (jamhost.metrics,
summed over the web processes in multiprocess mode) plus what is read at scrape time:
Celery queue lengths and the X API budget used. With METRICS_TOKEN set it asks for
"Authorization: Bearer <token>".
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.db.models import Min, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from jamhost import metrics  # noqa: F401  (defines and registers jamhost's metrics)
from jamhost.celery import ARCHIVE_QUEUE, DEFAULT_QUEUE, IMPORT_QUEUE, app
from jamhost.networks.models import ApiUsage, IngestCursor

log = logging.getLogger(__name__)
TIMEOUT = 2.0
QUEUES = (DEFAULT_QUEUE, ARCHIVE_QUEUE, IMPORT_QUEUE)
# kombu's Redis transport keeps a queue's messages of priority p > 0 in "<queue>\x06\x16<p>".
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def _redis() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
    )


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_redis() -> str:
    if not settings.REDIS_URL:
        return "not used (embedded)"
    client = _redis()
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "not used (tasks run in-process)"
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=TIMEOUT)
    return "ok"


CHECKS = {"database": _check_database, "redis": _check_redis, "broker": _check_broker}


def health_checks() -> dict[str, str]:
    """Each check's outcome: "ok", "not used (…)", or "failed: <reason>"."""
    outcomes = {}
    for name, check in CHECKS.items():
        try:
            outcomes[name] = check()
        except Exception as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            outcomes[name] = f"failed: {reason}"
    if outcomes["database"].startswith("failed"):
        connection.close_if_unusable_or_obsolete()
    return outcomes


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    outcomes = health_checks()
    failed = sorted(name for name, outcome in outcomes.items() if outcome.startswith("failed"))
    if failed:
        log.warning("health check failed: %s", ", ".join(f"{n} {outcomes[n]}" for n in failed))
    return JsonResponse(
        {"status": "failed" if failed else "ok", "failed": failed, "checks": outcomes},
        status=503 if failed else 200,
    )


class ScrapeTimeCollector(Collector):
    """Celery queue lengths and the X API budget, read when Prometheus scrapes."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        queues = GaugeMetricFamily(
            "jamhost_celery_queue_length", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        if settings.REDIS_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
            client = _redis()
            try:
                for queue in QUEUES:
                    waiting = sum(int(client.llen(queue + s)) for s in PRIORITY_SUFFIXES)
                    queues.add_metric([queue], waiting)
            except redis.RedisError:
                log.warning("metrics: Celery queue lengths not read (broker unreachable)")
            finally:
                client.close()
        yield queues
        yield from _x_budget()


def _x_budget() -> Iterator[GaugeMetricFamily]:
    totals = ApiUsage.objects.aggregate(
        reads=Sum("reads"), creates=Sum("creates"), creates_with_url=Sum("creates_with_url")
    )
    reads, creates = totals["reads"] or 0, totals["creates"] or 0
    with_url = totals["creates_with_url"] or 0
    used = GaugeMetricFamily(
        "jamhost_x_posts", "X API posts read and created, all jams.", labels=["kind"]
    )
    used.add_metric(["read"], reads)
    used.add_metric(["created"], creates - with_url)
    used.add_metric(["created_with_url"], with_url)
    yield used
    dollars = (
        Decimal(str(settings.X_PRICE_READ)) * reads
        + Decimal(str(settings.X_PRICE_CREATE)) * (creates - with_url)
        + Decimal(str(settings.X_PRICE_CREATE_URL)) * with_url
    )
    yield GaugeMetricFamily(
        "jamhost_x_spent_dollars", "X API spend at the X_PRICE_* rates, all jams.", float(dollars)
    )
    window = timezone.now() - timedelta(minutes=15)
    remaining = IngestCursor.objects.filter(last_polled_at__gte=window).aggregate(
        low=Min("rate_remaining")
    )["low"]
    rate = GaugeMetricFamily(
        "jamhost_x_search_rate_remaining",
        "Lowest recent-search requests left in the current 15-minute window (jams polled "
        "in the last 15 minutes).",
    )
    if remaining is not None:
        rate.add_metric([], remaining)
    yield rate


def _authorised(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), token.encode())


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        return HttpResponse("Give the metrics token.\n", status=401, content_type="text/plain")
    scraped = CollectorRegistry()
    scraped.register(ScrapeTimeCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        counted: Any = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY  # where jamhost.metrics registered itself
    body = generate_latest(counted) + generate_latest(scraped)
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")
