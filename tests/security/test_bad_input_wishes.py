"""Bad input through the forms of drafts, reminders, guests and the recap: every naughty
string in every field. Nothing answers 500, a refusal says why (a message on the page it
leads to), and markup never comes back unescaped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.utils import timezone

from jamhost.accounts.guests import guests_set
from jamhost.jams.models import JamStatus
from tests.factories import JamFactory
from tests.security.conftest import Cast
from tests.security.naughty import NAUGHTY, unescaped

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> None:
    settings.RATE_RSVP_ADDRESS = "0/60"
    settings.RATE_GUEST_POST_ADDRESS = settings.RATE_GUEST_POST_JAM = "0/60"


def _clear(response: Any, payload: str) -> str:
    assert response.status_code < 500, (payload[:80], response.status_code)
    assert response.status_code in (200, 302, 400, 403, 404, 405), response.status_code
    text = response.content.decode(errors="replace")
    assert not unescaped(payload, text), payload[:80]
    return text


def test_draft_forms_with_every_naughty_string(cast: Cast) -> None:
    client = cast.client("panelist")
    question = cast.jam.questions.get(number=3)
    url = f"/jams/{cast.jam.slug}/drafts/"
    for payload in NAUGHTY:
        text = _clear(client.post(url, {"question": question.pk, "body": payload}), payload)
        if "errorlist" not in text:  # stored: the page shows it escaped
            _clear(client.get(url), payload)
        _clear(client.post(url, {"question": payload[:50], "body": "x"}), payload)
        _clear(
            client.post(url, {"question": question.pk, "draft": payload[:50], "body": "x"}), payload
        )
        _clear(
            client.get(f"/jams/{cast.jam.slug}/drafts/{quote(payload[:30], safe='')}/send/"),
            payload,
        )


def test_rsvp_and_unsubscribe_with_every_naughty_string(cast: Cast) -> None:
    jam = JamFactory(
        status=JamStatus.SCHEDULED, starts_at=timezone.now() + timedelta(days=2), host=cast.jam.host
    )
    client = cast.client("anonymous")
    for payload in NAUGHTY:
        answer = client.post(f"/jams/{jam.slug}/remind/", {"email": payload}, follow=True)
        text = _clear(answer, payload)
        assert "You will be reminded" in text or "Enter a valid email address" in text
        token = quote(payload[:80], safe="")
        if token:
            for method in (client.get, client.post):
                answer = method(f"/reminders/unsubscribe/{token}/")
                page = _clear(answer, payload)
                assert "damaged" in page or answer.status_code == 404, payload[:80]


def test_guest_forms_with_every_naughty_string(cast: Cast) -> None:
    guests_set(jam=cast.jam, actor=cast.jam.host, enabled=True, hold_for_moderation=True)
    client = cast.client("anonymous")
    join = f"/jams/{cast.jam.slug}/guest/join/"
    for payload in NAUGHTY:
        _clear(client.post(join, {"display_name": payload}, follow=True), payload)
    client.post(join, {"display_name": "Plain Name"})
    for payload in NAUGHTY:
        answer = client.post(
            f"/jams/{cast.jam.slug}/guest/post/",
            {"body": payload, "client_key": payload[:64]},
            follow=True,
        )
        text = _clear(answer, payload)
        assert 'class="message' in text, payload[:80]
    _clear(client.get(f"/jams/{cast.jam.slug}/live/"), "")


def test_recap_downloads_with_naughty_formats(cast: Cast) -> None:
    client = cast.client("host")
    for payload in NAUGHTY[:60]:
        fmt = quote(payload[:20], safe="")
        if fmt:
            _clear(client.get(f"/jams/{cast.jam.slug}/recap.{fmt}"), payload)
