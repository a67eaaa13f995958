"""The edge, driven through jamhost.asgi's application as a server drives it: request
bodies capped before they are read, X-Forwarded-For believed only from TRUSTED_PROXIES,
open websockets per address capped, trusted origins for sockets."""

from __future__ import annotations

import asyncio
import importlib
import re
import uuid
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from tests.live.conftest import receive_until_caught_up
from tests.security.conftest import make_cast

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_limits(settings: Any) -> None:
    settings.CACHES = {
        "default": {**django_settings.CACHES["default"], "KEY_PREFIX": f"t{uuid.uuid4().hex}"}
    }


@pytest.fixture
def app(settings: Any) -> Any:
    """jamhost.asgi's application built under this test's settings."""
    settings.ALLOWED_HOSTS = ["jams.example.org"]
    import jamhost.asgi

    saved = jamhost.asgi.router, jamhost.asgi.guarded, jamhost.asgi.application

    def build() -> Any:
        return importlib.reload(jamhost.asgi).application

    yield build
    jamhost.asgi.router, jamhost.asgi.guarded, jamhost.asgi.application = saved


async def http(
    app: Any,
    method: str,
    path: str,
    *,
    headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    chunks: list[bytes] = (),  # type: ignore[assignment]
    client: str = "203.0.113.9",
) -> tuple[int, bytes, int]:
    """(status, body, chunks the app read) for one request through the ASGI app."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"jams.example.org"), *headers],
        "client": (client, 50000),
        "server": ("127.0.0.1", 8000),
    }
    pending = list(chunks) or [b""]
    read = 0
    sent: list[dict[str, Any]] = []
    answered = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal read
        if not pending:  # as a server does: nothing more until the client goes
            await answered.wait()
            return {"type": "http.disconnect"}
        read += 1
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            answered.set()

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, read


async def test_an_oversized_upload_is_refused_before_a_byte_is_read(
    app: Any, settings: Any
) -> None:
    settings.IMPORT_MAX_BYTES = 20_000_000
    application = app()
    huge = [(b"content-length", b"800000000"), (b"content-type", b"multipart/form-data; b=x")]
    status, body, read = await http(
        application, "POST", "/import/", headers=huge, chunks=[b"x" * 65536] * 3
    )
    assert status == 413 and read == 0
    assert b"The file is over the limit of 20 MB. Split it into one file per jam" in body


async def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_cap(
    app: Any, settings: Any
) -> None:
    settings.REQUEST_MAX_BYTES = 100_000
    application = app()
    chunks = [b"x" * 10_000] * 1000  # 10 MB sent without a Content-Length
    status, body, read = await http(application, "POST", "/accounts/login/", chunks=chunks)
    assert status == 413 and b"over the limit of 0.1 MB" in body
    assert read == 11  # the chunk that passed the cap was the last one read
    # Under the cap, the request goes through as before.
    status, _, _ = await http(application, "GET", "/")
    assert status == 200


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(app: Any, settings: Any) -> None:
    """Log-in attempts are limited per address: a client that makes up X-Forwarded-For
    is still counted as itself, unless it is a configured proxy."""
    settings.RATE_LOGIN_ADDRESS = "3/300"
    settings.RATE_LOGIN_USER = "100/300"
    token = "abcdefghijklmnopqrstuvwxyzABCDEF"
    form = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"cookie", f"csrftoken={token}".encode()),
    ]

    async def attempts(application: Any, client: str) -> list[int]:
        statuses = []
        for n in range(5):
            spoof = [(b"x-forwarded-for", f"198.51.100.{n}".encode())]
            status, body, _ = await http(
                application,
                "POST",
                "/accounts/login/",
                headers=form + spoof,
                chunks=[f"username=u{n}&password=p&csrfmiddlewaretoken={token}".encode()],
                client=client,
            )
            statuses.append(429 if re.search(rb"try again in \d+ s", body) else status)
        return statuses

    settings.TRUSTED_PROXIES = []
    untrusted = await attempts(app(), "203.0.113.7")
    assert untrusted.count(429) == 2, untrusted  # all five counted for 203.0.113.7
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxied = await attempts(app(), "10.1.2.3")
    assert 429 not in proxied, proxied  # five clients behind the proxy, once each


async def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(
    app: Any, settings: Any, hub: Any
) -> None:
    """A plain-HTTP client that claims HTTPS is still on HTTP: redirected to HTTPS, and its
    sockets are held to the http:// origin. A trusted TLS proxy's claim is believed."""
    from asgiref.sync import sync_to_async

    settings.SECURE_SSL_REDIRECT = True
    claim = [(b"x-forwarded-proto", b"https")]
    settings.TRUSTED_PROXIES = []
    status, _, _ = await http(app(), "GET", "/", headers=claim, client="203.0.113.7")
    assert status == 301
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    status, _, _ = await http(app(), "GET", "/", headers=claim, client="10.1.2.3")
    assert status == 200

    settings.TRUSTED_PROXIES = []
    application = app()
    cast = await sync_to_async(make_cast)()
    path = f"/ws/jams/{cast.jam.slug}/live/?after=0"

    async def opens(origin: bytes) -> bool:
        headers = [(b"host", b"jams.example.org"), (b"origin", origin), *claim]
        ws = WebsocketCommunicator(application, path, headers=headers)
        ws.scope["client"] = ("203.0.113.7", 50000)
        connected, _ = await ws.connect(timeout=5)
        if connected:
            await receive_until_caught_up(ws)
            await ws.disconnect()
        return connected

    assert not await opens(b"https://jams.example.org")
    assert await opens(b"http://jams.example.org")


async def test_open_websockets_per_address_are_capped(app: Any, settings: Any, hub: Any) -> None:
    from asgiref.sync import sync_to_async

    settings.LIVE_SOCKETS_PER_ADDRESS = 2
    application = app()
    cast = await sync_to_async(make_cast)()
    path = f"/ws/jams/{cast.jam.slug}/live/?after=0"
    origin = [(b"host", b"jams.example.org"), (b"origin", b"http://jams.example.org")]

    async def connect() -> tuple[bool, WebsocketCommunicator]:
        ws = WebsocketCommunicator(application, path, headers=origin)
        connected, _ = await ws.connect(timeout=5)
        if connected:
            await receive_until_caught_up(ws)
        return connected, ws

    first, second, third = [await connect() for _ in range(3)]
    assert first[0] and second[0] and not third[0]
    await first[1].disconnect()
    fourth = await connect()
    assert fourth[0]  # a closed socket frees its place
    for _, ws in (second, fourth):
        await ws.disconnect()


async def test_a_trusted_origin_may_open_sockets(app: Any, settings: Any, hub: Any) -> None:
    from asgiref.sync import sync_to_async

    settings.CSRF_TRUSTED_ORIGINS = ["https://jams.example.org:8443"]
    application = app()
    cast = await sync_to_async(make_cast)()
    path = f"/ws/jams/{cast.jam.slug}/live/?after=0"
    cases = ((b"https://jams.example.org:8443", True), (b"https://jams.example.org", False))
    for origin, ok in cases:
        ws = WebsocketCommunicator(
            application, path, headers=[(b"host", b"jams.example.org"), (b"origin", origin)]
        )
        connected, _ = await ws.connect(timeout=5)
        assert connected == ok, origin
        if connected:
            await receive_until_caught_up(ws)
            await ws.disconnect()
