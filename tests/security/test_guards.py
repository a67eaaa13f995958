"""The guards around every door: CSRF on forms, the session and Origin on websockets,
rate limits on compose and log-in, the Content-Security-Policy, `check --deploy`."""

from __future__ import annotations

import importlib
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client

from jamhost.posts.models import Post
from tests.live.conftest import receive_until_caught_up
from tests.security.conftest import Cast, make_cast

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_limits(settings: Any) -> None:
    # Counters of their own per test, without flushing a Redis database others may use.
    settings.CACHES = {
        "default": {**django_settings.CACHES["default"], "KEY_PREFIX": f"t{uuid.uuid4().hex}"}
    }


# CSRF ----------------------------------------------------------------------------------


def _csrf_forms(cast: Cast) -> list[tuple[str, str, dict[str, Any]]]:
    slug = cast.jam.slug
    return [
        ("host", f"/jams/{slug}/live/compose/", {"body": "forged post", "question": "none"}),
        ("moderator", f"/jams/{slug}/console/", {"action": "mode", "mode": "pre"}),
        ("host", f"/jams/{slug}/questions/", {"text": "Forged?", "offset_minutes": 5}),
        ("host", f"/jams/{slug}/invites/", {"role": "moderator"}),
        ("host", f"/jams/{slug}/live/end/", {}),
        ("participant", "/accounts/me/delete/", {"password": "correct-horse-battery"}),
        ("anonymous", "/accounts/login/", {"username": "x", "password": "y"}),
        ("anonymous", "/accounts/signup/", {"username": "newbie"}),
    ]


def test_every_form_refuses_a_post_without_the_csrf_token(cast: Cast) -> None:
    for role, path, data in _csrf_forms(cast):
        client = cast.client(role, enforce_csrf_checks=True)
        response = client.post(path, data)
        assert response.status_code == 403, (path, response.status_code)
        assert b"CSRF" in response.content or b"Not allowed" in response.content
    assert not Post.objects.filter(body="forged post").exists()
    cast.jam.refresh_from_db()
    assert cast.jam.status == "live"
    assert cast.users["participant"].__class__.objects.filter(pk=cast.users["participant"].pk)


def test_the_same_forms_pass_with_the_token(cast: Cast) -> None:
    client = cast.client("host", enforce_csrf_checks=True)
    page = client.get(f"/jams/{cast.jam.slug}/live/")
    token = page.cookies["csrftoken"].value
    response = client.post(
        f"/jams/{cast.jam.slug}/live/compose/",
        {"body": "a real post", "question": "none"},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 302
    assert Post.objects.filter(body="a real post").exists()


# Websockets: Origin and session ---------------------------------------------------------


@pytest.fixture
def asgi_app(settings: Any) -> Any:
    """jamhost.asgi's application, built under this test's ALLOWED_HOSTS (the Origin
    validator reads them when the module is imported), behind a trusted TLS proxy."""
    settings.ALLOWED_HOSTS = ["jams.example.org"]
    settings.TRUSTED_PROXIES = ["*"]  # the test communicator has no client address
    import jamhost.asgi

    saved = jamhost.asgi.router, jamhost.asgi.application
    yield importlib.reload(jamhost.asgi).application
    # Later tests that import the module get the application they would have had.
    jamhost.asgi.router, jamhost.asgi.application = saved


def _session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


TLS_PROXY = (b"x-forwarded-proto", b"https")  # as a TLS-terminating proxy sends it


async def _open(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], *, tls: bool = True
) -> tuple[bool, Any]:
    ws = WebsocketCommunicator(
        app, path, headers=[(b"host", b"jams.example.org"), *([TLS_PROXY] if tls else []), *headers]
    )
    connected, code = await ws.connect(timeout=5)
    if connected:
        await receive_until_caught_up(ws)
        await ws.disconnect()
    return connected, code


@pytest.mark.django_db(transaction=True)
async def test_websockets_refuse_a_foreign_origin(asgi_app: Any, hub: Any) -> None:
    from asgiref.sync import sync_to_async

    cast = await sync_to_async(make_cast)()
    path = f"/ws/jams/{cast.jam.slug}/live/?after=0"
    assert (await _open(asgi_app, path, [(b"origin", b"https://jams.example.org")]))[0]
    assert (await _open(asgi_app, path, [(b"origin", b"https://jams.example.org:443")]))[0]
    assert not (await _open(asgi_app, path, [(b"origin", b"https://evil.example")]))[0]
    assert not (await _open(asgi_app, path, [(b"origin", b"null")]))[0]
    assert not (await _open(asgi_app, path, []))[0]  # no Origin at all
    # Scheme, host and port are compared, not the host name alone.
    for foreign in (
        b"http://jams.example.org",  # the page is https
        b"https://jams.example.org:8443",
        b"https://jams.example.org.evil.example",
        b"https://evil.example/https://jams.example.org",
        b"javascript://jams.example.org",
    ):
        assert not (await _open(asgi_app, path, [(b"origin", foreign)]))[0], foreign
    # Over plain HTTP (no TLS proxy), the page's own origin is http://.
    assert (await _open(asgi_app, path, [(b"origin", b"http://jams.example.org")], tls=False))[0]
    assert not (await _open(asgi_app, path, [(b"origin", b"https://jams.example.org")], tls=False))[
        0
    ]


@pytest.mark.django_db(transaction=True)
async def test_the_console_socket_goes_by_the_session(asgi_app: Any, hub: Any) -> None:
    from asgiref.sync import sync_to_async

    cast = await sync_to_async(make_cast)()
    path = f"/ws/jams/{cast.jam.slug}/console/?after=0"
    origin = (b"origin", b"https://jams.example.org")
    moderator = await sync_to_async(_session_cookie)(cast.users["moderator"])
    participant = await sync_to_async(_session_cookie)(cast.users["participant"])
    assert (await _open(asgi_app, path, [origin, (b"cookie", moderator)]))[0]
    connected, code = await _open(asgi_app, path, [origin, (b"cookie", participant)])
    assert not connected and code == 4403
    connected, code = await _open(asgi_app, path, [origin, (b"cookie", b"sessionid=forged")])
    assert not connected and code == 4403
    # A foreign page cannot ride the moderator's cookie either.
    evil = (b"origin", b"https://evil.example")
    assert not (await _open(asgi_app, path, [evil, (b"cookie", moderator)]))[0]


# Rate limits ---------------------------------------------------------------------------

TRY_AGAIN = re.compile(r"try again in (\d+) s")


def test_compose_is_limited_per_user(cast: Cast, settings: Any) -> None:
    settings.RATE_COMPOSE_USER = "3/60"
    client = cast.client("panelist")
    url = f"/jams/{cast.jam.slug}/live/compose/"
    for n in range(3):
        answer = client.post(url, {"body": f"post {n}", "question": "none"}, HTTP_HX_REQUEST="true")
        assert answer.status_code == 200 and b"Posted." in answer.content
    refused = client.post(url, {"body": "one too many", "question": "none"}, HTTP_HX_REQUEST="true")
    text = refused.content.decode()
    match = TRY_AGAIN.search(text)
    assert match and 1 <= int(match.group(1)) <= 60, text
    assert refused["Retry-After"] == match.group(1)
    assert "one too many" in text  # what they wrote stays in the box
    assert not Post.objects.filter(body="one too many").exists()
    # Another person is not held back by this one's limit.
    other = cast.client("host").post(url, {"body": "host post", "question": "none"})
    assert Post.objects.filter(body="host post").exists() and other.status_code == 302


def test_compose_is_limited_per_address(cast: Cast, settings: Any) -> None:
    settings.RATE_COMPOSE_ADDRESS = "2/60"
    url = f"/jams/{cast.jam.slug}/live/compose/"
    for role in ("panelist", "host"):
        cast.client(role).post(url, {"body": f"from {role}", "question": "none"})
    refused = cast.client("moderator").post(
        url, {"body": "third from here", "question": "none"}, HTTP_HX_REQUEST="true"
    )
    assert TRY_AGAIN.search(refused.content.decode())
    assert not Post.objects.filter(body="third from here").exists()
    elsewhere = cast.client("moderator").post(
        url, {"body": "from elsewhere", "question": "none"}, REMOTE_ADDR="10.0.0.9"
    )
    assert elsewhere.status_code == 302 and Post.objects.filter(body="from elsewhere").exists()


def test_one_person_over_their_limit_leaves_their_address_its_budget(
    cast: Cast, settings: Any
) -> None:
    """A whole venue posts from one address: the posts one person sends after reaching
    their own limit are refused without counting against everyone else there."""
    settings.RATE_COMPOSE_USER = "2/60"
    settings.RATE_COMPOSE_ADDRESS = "4/60"
    url = f"/jams/{cast.jam.slug}/live/compose/"
    eager = cast.client("panelist")
    for n in range(10):
        eager.post(url, {"body": f"eager {n}", "question": "none"})
    assert Post.objects.filter(body__startswith="eager").count() == 2
    host = cast.client("host")
    for n in range(2):
        host.post(url, {"body": f"host {n}", "question": "none"})
    assert Post.objects.filter(body__startswith="host").count() == 2  # 4 counted here


def test_login_is_limited_per_username_and_per_address(cast: Cast, settings: Any) -> None:
    settings.RATE_LOGIN_USER = "3/300"
    settings.RATE_LOGIN_ADDRESS = "5/300"
    target = cast.users["panelist"].username
    for _ in range(3):
        wrong = Client().post("/accounts/login/", {"username": target, "password": "guess"})
        assert wrong.status_code == 200
    # Even the right password waits now: guessing cannot continue from anywhere.
    locked = Client().post(
        "/accounts/login/",
        {"username": target.upper(), "password": "correct-horse-battery"},
        REMOTE_ADDR="10.0.0.7",
    )
    assert locked.status_code == 429
    match = TRY_AGAIN.search(locked.content.decode())
    assert match and 1 <= int(match.group(1)) <= 300
    assert locked["Retry-After"] == match.group(1)
    assert "_auth_user_id" not in locked.wsgi_request.session
    # Per address: spraying many usernames from one address is stopped too.
    for n in range(2):
        Client().post("/accounts/login/", {"username": f"nobody{n}", "password": "x"})
    sprayed = Client().post("/accounts/login/", {"username": "nobody9", "password": "x"})
    assert sprayed.status_code == 429
    # Someone else, elsewhere, logs in normally.
    fine = Client().post(
        "/accounts/login/",
        {"username": cast.users["host"].username, "password": "correct-horse-battery"},
        REMOTE_ADDR="10.0.0.8",
    )
    assert fine.status_code == 302


def test_votes_are_limited_by_the_shared_limiter(cast: Cast, settings: Any) -> None:
    """Votes count in the same cache as every other limit (Redis with the services), and
    an action that fails gives its count back."""
    from jamhost.posts.services import post_compose
    from jamhost.ratelimit import Limited, rate_spent

    settings.AUDIENCE_VOTES_PER_MINUTE = 2
    question = post_compose(jam=cast.jam, user=cast.users["staff"], body="Shall we?")
    url = f"/jams/{cast.jam.slug}/posts/{question.pk}/vote/"
    voter = cast.client("participant")
    # The budget counts in clock-minute windows: the three votes go in one window.
    left = 60 - time.time() % 60
    if left < 10:
        time.sleep(left + 0.1)
    answers = [voter.post(url, {"vote": vote}) for vote in ("add", "remove", "add")]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "a lot of votes at once" in answers[2].json()["message"]
    assert not question.votes.exists()
    # Someone else still votes.
    assert cast.client("panelist").post(url).json()["upvotes"] == 1

    limit = {"scope": "test:spent", "key": "someone", "rate": "1/60", "what": "tries"}
    with pytest.raises(RuntimeError), rate_spent(**limit):
        raise RuntimeError("the action failed")
    with rate_spent(**limit):
        pass
    with pytest.raises(Limited), rate_spent(**limit):
        pass


def test_limits_let_requests_through_when_the_cache_is_down(cast: Cast, settings: Any) -> None:
    # A cache that cannot be reached (Redis down): posting must go on.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    # (pytest-django's settings fixture rebuilds the cache handlers on change.)
    settings.RATE_COMPOSE_USER = "1/60"
    client = cast.client("panelist")
    for n in range(3):
        client.post(f"/jams/{cast.jam.slug}/live/compose/", {"body": f"p{n}", "question": "none"})
    assert Post.objects.filter(body__in=["p0", "p1", "p2"]).count() == 3


# Headers and deployment checks ----------------------------------------------------------


def test_every_page_carries_a_csp_without_inline_scripts(cast: Cast) -> None:
    for path in ("/", f"/jams/{cast.jam.slug}/", f"/jams/{cast.jam.slug}/live/", "/nowhere/"):
        response = cast.client("host").get(path)
        policy = response["Content-Security-Policy"]
        directives = dict(
            (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
        )
        assert directives["script-src"] == ["'self'"], policy
        assert directives["object-src"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert "'unsafe-eval'" not in policy


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def test_templates_have_no_inline_scripts_or_handlers() -> None:
    """The CSP forbids them; a template that used one would break in the browser."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, JS_URL):
            for match in pattern.finditer(text):
                if 'type="application/json"' in match.group(0):
                    continue  # data islands are not run
                offenders.append(f"{template.relative_to(ROOT)}: {match.group(0)[:60]}")
    assert offenders == []


def test_check_deploy_is_clean_with_debug_off() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DEBUG", "SECRET"))}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="jams.example.org",
        CSRF_TRUSTED_ORIGINS="https://jams.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_cookies_are_secure_and_hsts_is_on_with_debug_off() -> None:
    # The suite runs with DEBUG off, as production does.
    assert not django_settings.DEBUG
    assert django_settings.SESSION_COOKIE_SECURE and django_settings.CSRF_COOKIE_SECURE
    assert django_settings.SESSION_COOKIE_HTTPONLY
    assert django_settings.SECURE_HSTS_SECONDS >= 31536000
    assert django_settings.X_FRAME_OPTIONS == "DENY"
