"""jamhost.handler: a request's synchronous part in one thread hop, with Django's signals
sent once each, answers closed, and streaming answers still stopped by a disconnect."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from django.core import signals
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path

from jamhost.handler import SyncChainASGIHandler

threads: list[int] = []
streamed: list[int] = []


def plain(request: HttpRequest) -> HttpResponse:
    threads.append(threading.get_ident())
    return HttpResponse(b"hello " + request.body)


def endless(request: HttpRequest) -> StreamingHttpResponse:
    async def parts() -> AsyncIterator[bytes]:
        for n in range(10_000):
            streamed.append(n)
            yield b"part\n"

    return StreamingHttpResponse(parts())


urlpatterns = [path("plain/", plain), path("endless/", endless)]


class Exchange:
    def __init__(self, body: bytes = b"", disconnect_after: int | None = None) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.inbox.put_nowait({"type": "http.request", "body": body, "more_body": False})
        self.sent: list[dict[str, Any]] = []
        self.disconnect_after = disconnect_after

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if self.disconnect_after is not None and len(self.sent) == self.disconnect_after:
            self.inbox.put_nowait({"type": "http.disconnect"})
        await asyncio.sleep(0)


def _scope(route: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"text/plain")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


@pytest.fixture
def counted() -> Iterator[dict[str, int]]:
    counts = {"started": 0, "finished": 0}

    def started(**_: Any) -> None:
        counts["started"] += 1

    def finished(**_: Any) -> None:
        counts["finished"] += 1

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield counts
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


@pytest.mark.urls("tests.test_handler")
async def test_an_answer_in_one_hop_with_each_signal_once(counted: dict[str, int]) -> None:
    handler = SyncChainASGIHandler()
    exchange = Exchange(body=b"there")
    await handler(_scope("/plain/"), exchange.receive, exchange.send)
    assert exchange.sent[0]["status"] == 200
    assert b"".join(m.get("body", b"") for m in exchange.sent[1:]) == b"hello there"
    assert counted == {"started": 1, "finished": 1}
    assert threads and threads[-1] != threading.get_ident()  # on a thread, not the loop


@pytest.mark.urls("tests.test_handler")
async def test_a_streaming_answer_is_sent_and_closed(counted: dict[str, int]) -> None:
    streamed.clear()
    exchange = Exchange()
    await SyncChainASGIHandler()(_scope("/endless/"), exchange.receive, exchange.send)
    assert len(streamed) == 10_000 and not exchange.sent[-1].get("more_body")
    assert counted == {"started": 1, "finished": 1}


@pytest.mark.urls("tests.test_handler")
async def test_a_streaming_answer_stops_when_the_client_goes(counted: dict[str, int]) -> None:
    streamed.clear()
    exchange = Exchange(disconnect_after=3)
    await asyncio.wait_for(
        SyncChainASGIHandler()(_scope("/endless/"), exchange.receive, exchange.send), 10
    )
    assert len(streamed) < 10_000
    assert counted == {"started": 1, "finished": 1}
