"""Bad input through every form and endpoint: every naughty string (tests/security/
naughty.py) in every field, then hypothesis-generated text, ids and JSON. Nothing may
answer 500, a refusal must say why, and markup never comes back unescaped."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jamhost.posts.models import Post
from tests.security.conftest import Cast
from tests.security.naughty import NAUGHTY, unescaped

pytestmark = pytest.mark.timeout(240)

MESSAGES = (
    'class="error',
    "errorlist",
    "Posted.",
    'role="alert"',
    'role="status"',
    "</html>",
    'id="compose-count"',
)
REFUSALS = (302, 400, 403, 404, 405, 409, 413, 429)
FAST = hsettings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
texts = st.text(st.characters(codec="utf-8"), max_size=400) | st.sampled_from(NAUGHTY)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    # Thousands of requests from one test client: the limits are tested elsewhere.
    settings.RATE_COMPOSE_USER = settings.RATE_COMPOSE_ADDRESS = "0/60"
    settings.RATE_LOGIN_USER = settings.RATE_LOGIN_ADDRESS = "0/60"


def _answered(response: Any, payload: str = "") -> str:
    """The page, after checking it is a clear answer and not an error or an injection."""
    assert response.status_code < 500, (payload[:80], response.status_code)
    text = response.content.decode(errors="replace") if hasattr(response, "content") else ""
    if response.status_code == 200 and response.request["REQUEST_METHOD"] == "POST":
        assert any(m in text for m in MESSAGES), (payload[:80], text[:300])
    else:
        assert response.status_code in (200, *REFUSALS), response.status_code
    assert not unescaped(payload, text), payload
    return text


def _compose(cast: Cast, client: Client, body: str, question: str = "none", key: str = "") -> str:
    return _answered(
        client.post(
            f"/jams/{cast.jam.slug}/live/compose/",
            {"body": body, "question": question, "client_key": key},
            HTTP_HX_REQUEST="true",
        ),
        body,
    )


def test_a_nul_character_is_refused_plainly(cast: Cast) -> None:
    """PostgreSQL cannot store NUL: this was a 500 (the post_compose fix)."""
    page = _compose(cast, cast.client("panelist"), "nul\x00inside", key="k\x00")
    assert "NUL character" in page
    page = _compose(cast, cast.client("panelist"), "fine", key="k\x00")
    assert "reload the page" in page
    assert not Post.objects.filter(body__startswith="nul").exists()


def test_unicode_digits_in_console_ids_are_refused_plainly(cast: Cast) -> None:
    """ "⁰⁴⁵" passes str.isdigit() but not int(): this was a 500 (the actions fix)."""
    for raw in ("⁰⁴⁵", "١٢٣", "１２"):
        answer = cast.client("moderator").post(
            f"/jams/{cast.jam.slug}/console/", {"action": "hide", "post": raw}
        )
        assert answer.status_code == 409
        assert "must be a number" in answer.content.decode()


def test_compose_and_preview_with_every_naughty_string(cast: Cast) -> None:
    client = cast.client("panelist")
    for s in NAUGHTY:
        page = _compose(cast, client, s)
        _compose(cast, client, "fine", question=s)
        _compose(cast, client, "fine too", key=s)
        if "\x00" in s:
            assert "NUL character" in page, page[:300]
        _answered(
            client.post(f"/jams/{cast.jam.slug}/live/preview/", {"body": s, "question": s}), s
        )
    # What was accepted is shown escaped in the room, to everyone.
    room = Client().get(f"/jams/{cast.jam.slug}/live/").content.decode()
    for s in NAUGHTY:
        assert not unescaped(s, room)
    assert Post.objects.filter(jam=cast.jam, body__contains="<script>").exists()


def test_signup_and_login_with_every_naughty_string(db: Any) -> None:
    for n, s in enumerate(NAUGHTY):
        # Each string as the handle, the display name and the password at once; every
        # other one with a valid handle, so the other fields are reached too.
        username = s if n % 2 else f"okname{n}"
        data = {"username": username, "first_name": s, "password1": s, "password2": s}
        _answered(Client().post("/accounts/signup/", data), s)
        _answered(Client().post("/accounts/login/", {"username": s, "password": s}), s)
        if n % 4 == 0:
            _answered(Client().get("/accounts/login/", {"next": s}), s)


def test_jam_forms_with_every_naughty_string(cast: Cast) -> None:
    host = cast.client("host")
    valid = {
        "title": "A jam",
        "hashtag": "NaughtyJam",
        "starts_at": "2031-01-01T10:00",
        "time_zone": "Europe/Paris",
        "duration_minutes": "60",
        "description": "",
        "moderation_mode": "post",
    }
    fields = list(valid)
    slug = cast.jam.slug
    for n, s in enumerate(NAUGHTY):
        # Each string reaches every form, in one field or another (rotating), so the
        # whole list runs through each form without thousands of requests.
        _answered(host.post("/new/", {**valid, fields[n % len(fields)]: s}), s)
        path, data = [
            ("/new/", dict.fromkeys(valid, s)),
            (f"/jams/{slug}/edit/", {**valid, "title": s, "description": s}),
            (f"/jams/{slug}/questions/", {"text": s, "offset_minutes": "40"}),
            (f"/jams/{slug}/questions/", {"text": "Why?", "offset_minutes": s}),
            (f"/jams/{slug}/invites/", {"role": s, "note": s}),
            (f"/jams/{slug}/invites/", {"role": "panelist", "note": s}),
            (f"/jams/{slug}/live/extend/", {"minutes": s}),
            (f"/jams/{slug}/questions/reorder/", {"order": s}),
        ][n % 8]
        _answered(host.post(path, data), s)
        _answered(host.post(f"/jams/{slug}/questions/", {"text": s, "offset_minutes": s}), s)


def test_console_actions_and_addresses_with_every_naughty_string(cast: Cast) -> None:
    moderator = cast.client("moderator")
    anyone = Client()
    for n, s in enumerate(NAUGHTY):
        data = [
            {"action": s},
            {"action": "hide", "post": s},
            {"action": "mode", "mode": s},
            {"action": "muted_words", "words": s},
            {"action": "block", "author": s},
        ][len(s) % 5]
        _answered(moderator.post(f"/jams/{cast.jam.slug}/console/", data), s)
        quoted = quote(s, safe="")
        path, query = [
            (f"/invites/{quoted}/", {}),
            (f"/jams/{quoted}/", {}),
            (f"/jams/{quoted}/live/", {}),
            ("/past/", {"q": s, "host": s, "since": s}),
            (f"/jams/{cast.jam.slug}/live/", {"after": s}),
        ][n % 5]
        _answered(anyone.get(path, query), s)


def test_import_files_with_every_naughty_string(cast: Cast) -> None:
    client = cast.client("participant")
    for n, s in enumerate(NAUGHTY):
        for fmt in ("auto", "csv", "x")[n % 3 : n % 3 + 1]:
            upload = SimpleUploadedFile(f"jam{n}.csv", s.encode("utf-8", "surrogatepass"))
            _answered(
                client.post(
                    "/import/",
                    {"file": upload, "file_format": fmt, "title": s, "hashtag": s, "encoding": s},
                ),
                s,
            )


@FAST
@given(body=texts, question=texts | st.integers().map(str))
def test_compose_never_fails_on_any_text(cast: Cast, body: str, question: str) -> None:
    _compose(cast, cast.client("panelist"), body, question=question)


@FAST
@given(
    title=texts,
    hashtag=texts,
    starts_at=texts | st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    duration=texts | st.integers().map(str),
)
def test_jam_create_never_fails(
    cast: Cast, title: str, hashtag: str, starts_at: str, duration: str
) -> None:
    data = {
        "title": title,
        "hashtag": hashtag,
        "starts_at": starts_at,
        "time_zone": "UTC",
        "duration_minutes": duration,
        "moderation_mode": "post",
    }
    _answered(cast.client("host").post("/new/", data), title)


@FAST
@given(
    fields=st.dictionaries(
        st.sampled_from(["action", "post", "mode", "words", "author", "key", "minutes"]),
        texts | st.integers().map(str),
    )
)
def test_console_form_never_fails(cast: Cast, fields: dict[str, str]) -> None:
    _answered(cast.client("moderator").post(f"/jams/{cast.jam.slug}/console/", fields))


@FAST
@given(username=texts, first_name=texts, password=texts)
def test_signup_never_fails(db: Any, username: str, first_name: str, password: str) -> None:
    data = {
        "username": username,
        "first_name": first_name,
        "password1": password,
        "password2": password,
    }
    _answered(Client().post("/accounts/signup/", data), first_name)


def test_embed_options_and_sites_with_every_naughty_string(cast: Cast) -> None:
    host, anyone = cast.client("host"), Client()
    for n, s in enumerate(NAUGHTY):
        name = ("theme", "height", "show", "order")[n % 4]
        text = _answered(anyone.get(f"/jams/{cast.jam.slug}/embed/", {name: s}), s)
        assert "<form" not in text
        response = host.post(f"/jams/{cast.jam.slug}/embed/setup/", {"origins": s})
        _answered(response, s)
        # Only an origin as jams.embedding writes it reaches the header: one directive.
        policy = anyone.get(f"/jams/{cast.jam.slug}/embed/")["Content-Security-Policy"]
        ancestors = policy.split("frame-ancestors", 1)[1]
        assert ";" not in ancestors and policy.count("frame-ancestors") == 1, (s, policy)
        for origin in ancestors.split()[1:]:
            assert origin.startswith(("http://", "https://")), (s, origin)
