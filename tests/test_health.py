"""/healthz names what failed; /metrics speaks Prometheus' text format."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from jamhost.celery import app
from jamhost.networks.models import ApiUsage
from tests.factories import live_jam

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_on_the_embedded_default(client: Client, settings: Any) -> None:
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("not used")


def test_healthz_answers_503_naming_what_failed(client: Client, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = broker
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker", "redis"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("failed: ")


def test_healthz_is_exempt_from_the_https_redirect(client: Client, settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.REDIS_URL = ""
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_are_served_in_prometheus_format(client: Client, settings: Any) -> None:
    jam = live_jam()
    ApiUsage.objects.create(jam=jam, reads=200, creates=3, creates_with_url=1)
    settings.X_PRICE_READ, settings.X_PRICE_CREATE, settings.X_PRICE_CREATE_URL = 0.005, 0.015, 0.2
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    found = families(response.content.decode())
    for name in (
        "jamhost_sockets_open",
        "jamhost_frames_delivered",
        "jamhost_delivery_lag_seconds",
        "jamhost_hub_gaps",
        "jamhost_hub_resyncs",
        "jamhost_sweep_seconds",
        "jamhost_refused",
        "jamhost_celery_queue_length",
        "jamhost_x_posts",
        "jamhost_x_spent_dollars",
        "jamhost_x_search_rate_remaining",
    ):
        assert name in found, name
    used = {s.labels["kind"]: s.value for s in found["jamhost_x_posts"].samples}
    assert used == {"read": 200, "created": 2, "created_with_url": 1}
    assert found["jamhost_x_spent_dollars"].samples[0].value == pytest.approx(1.23)


def test_a_sweep_is_timed(client: Client) -> None:
    from jamhost.jams.sweep import jams_sweep

    def count() -> float:
        found = families(client.get("/metrics").content.decode())["jamhost_sweep_seconds"]
        return sum(
            s.value
            for s in found.samples
            if s.name.endswith("_count") and s.labels.get("sweep") == "jams"
        )

    before = count()
    jams_sweep()
    assert count() == before + 1


def test_metrics_ask_for_the_token_when_one_is_set(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200
