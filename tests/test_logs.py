"""Logs fit for production: a refused request is one line, JSON on request, and no
line per delivered frame."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from jamhost.logs import logging_config
from tests.factories import JamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def configure(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    def apply(fmt: str) -> None:
        logging.config.dictConfig(logging_config(fmt=fmt, level="INFO"))
        capsys.readouterr()

    yield apply
    logging.config.dictConfig(django_settings.LOGGING)


def refused_requests(client: Client) -> None:
    jam = JamFactory()  # a draft: its edit page is forbidden to others
    client.force_login(UserFactory())
    assert client.get(f"/jams/{jam.slug}/edit/").status_code in (403, 404)
    assert client.get("/no/such/page/").status_code == 404
    assert Client(enforce_csrf_checks=True).post("/accounts/login/", {}).status_code == 403


def test_a_refused_request_is_one_line(configure: Any, capsys: pytest.CaptureFixture[str]) -> None:
    configure("plain")
    refused_requests(Client(raise_request_exception=False))
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) >= 3, lines
    assert not [line for line in lines if "Traceback" in line or line.startswith(" ")], lines
    assert all(" WARNING django." in line for line in lines), lines


def test_logs_are_json_on_request(configure: Any, capsys: pytest.CaptureFixture[str]) -> None:
    configure("json")
    refused_requests(Client(raise_request_exception=False))
    logging.getLogger("jamhost.test").error("boom", exc_info=ValueError("bad"))
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    not_found = next(r for r in records if r["message"].startswith("Not Found"))
    assert not_found["level"] == "WARNING" and not_found["status_code"] == 404
    assert not_found["path"] == "/no/such/page/" and "exc_info" not in not_found
    assert "ValueError: bad" in records[-1]["exc_info"]  # a real error keeps its traceback
