"""The compose box a POST answers with (live.compose_box) is the template's, byte for byte,
whichever request asks and whatever was kept from an earlier one."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.shortcuts import render
from django.test import Client, RequestFactory

from jamhost.jams.selectors import questions_released
from jamhost.live.compose_box import TEMPLATE, render_compose_box
from jamhost.live.views import _compose_context
from tests.factories import UserFactory, live_jam

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _request() -> Any:
    request = RequestFactory().post("/")
    request.user = UserFactory()
    return request


def _same(context: dict[str, Any]) -> str:
    """The kept box's answer, checked against the template's for the same request."""
    request = _request()
    kept = render_compose_box(request, dict(context)).content.decode()
    rendered = render(request, TEMPLATE, dict(context)).content.decode()
    # A CSRF token is masked afresh each time it is asked for: compare what it unmasks to.
    kept_token, rendered_token = TOKEN.search(kept), TOKEN.search(rendered)
    assert kept_token and rendered_token
    from django.middleware.csrf import _unmask_cipher_token

    assert _unmask_cipher_token(kept_token.group(1)) == _unmask_cipher_token(
        rendered_token.group(1)
    )
    assert TOKEN.sub("", kept) == TOKEN.sub("", rendered)
    return kept


@pytest.mark.parametrize("choice", ["auto", "", "none", "1", "2", "9", "<b>"])
@pytest.mark.parametrize("held", [False, True])
def test_the_kept_box_is_the_templates(choice: str, held: bool) -> None:
    jam = live_jam(questions=3, released=2)
    jam.questions.filter(number=2).update(text='Tags <b> & "quotes" in a question?')
    jam.refresh_from_db()
    for sent_text in ("", 'A post <script>alert("x")</script> & more'):
        for stored_before in (False, True):
            context = _compose_context(
                _request(),
                jam,
                "participant",
                sent=True,
                stored_before=stored_before,
                choice=choice,
                sent_text=sent_text,
            )
            context["held_for_approval"] = held
            first = _same(context)
            again = _same(dict(context, client_key=uuid.uuid4().hex))  # kept now
            assert context["client_key"] in first and context["client_key"] not in again


def test_nothing_of_one_request_reaches_another() -> None:
    jam = live_jam()
    context = _compose_context(_request(), jam, "participant", sent=True, choice="auto")
    one = render_compose_box(_request(), dict(context, sent_text="my own text")).content
    other = render_compose_box(_request(), dict(context, client_key="k2", sent_text="")).content
    assert b"my own text" in one and b"my own text" not in other
    assert context["client_key"].encode() not in other


def test_a_changed_jam_is_a_new_box() -> None:
    jam = live_jam()
    context = _compose_context(_request(), jam, "participant", sent=True, choice="auto")
    assert f'data-hashtag="{jam.hashtag}"' in _same(context)
    jam.hashtag = "Renamed2026"
    context = _compose_context(_request(), jam, "participant", sent=True, choice="auto")
    assert 'data-hashtag="Renamed2026"' in _same(context)
    released = questions_released(jam=jam)
    assert released  # the box lists them: part of its shape
    context = _compose_context(_request(), jam, "participant", sent=True, choice="auto")
    context["released"] = []
    assert "A1:" not in _same(context)


def test_each_persons_counters_are_their_own(settings: Any) -> None:
    """Two people in one jam, one posting to Bluesky too: the kept boxes differ by the
    rules their counters show (part of the shape)."""
    from jamhost.networks.models import Network
    from tests.networks.jam_routes import linked, route

    settings.X_CLIENT_ID = "client"
    settings.BLUESKY_ENABLED = True
    jam = live_jam()
    route(jam, Network.BLUESKY)
    sky, plain = _request(), _request()
    linked(sky.user, Network.BLUESKY)
    with_sky = _compose_context(sky, jam, "participant", sent=True, choice="auto")
    without = _compose_context(plain, jam, "participant", sent=True, choice="auto")
    assert 'data-network="bluesky"' in _same(with_sky)
    box = _same(without)
    assert 'data-network="x"' in box and 'data-network="bluesky"' not in box


def test_a_box_with_text_or_errors_is_rendered_by_the_template() -> None:
    jam = live_jam()
    context = _compose_context(
        _request(), jam, "participant", body="kept <text>", errors={"body": ["Too long."]}
    )
    assert "kept &lt;text&gt;" in _same(context)


def test_the_compose_answer_through_the_page() -> None:
    jam = live_jam()
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    page = client.get(f"/jams/{jam.slug}/live/").content.decode()
    token = TOKEN.search(page)
    assert token
    for n in range(2):
        answer = client.post(
            f"/jams/{jam.slug}/live/compose/",
            {"csrfmiddlewaretoken": token.group(1), "body": f"Hi {n}", "client_key": f"k{n}"},
            HTTP_HX_REQUEST="true",
        )
        text = answer.content.decode()
        assert answer.status_code == 200 and "Posted." in text
        fresh = re.search(r'name="client_key" value="([0-9a-f]{32})"', text)
        assert fresh and fresh.group(1) not in (f"k{n}",)
        # The box's token is a valid one for this session: the next post goes through.
        token = TOKEN.search(text)
        assert token
