"""A draft is its people's business: every page of it answers a non-member as the room
does (404, as if it were not there), the big screen, the embed and the compose preview too."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from jamhost.jams.models import Role
from tests.factories import JamFactory, MembershipFactory, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


def draft_pages(slug: str) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("get", f"/jams/{slug}/live/", {}),
        ("get", f"/jams/{slug}/screen/", {}),
        ("get", f"/jams/{slug}/embed/", {}),
        ("post", f"/jams/{slug}/live/preview/", {"body": "hi", "question": "auto"}),
    ]


def test_a_drafts_screen_and_preview_answer_non_members_as_its_room_does() -> None:
    jam = JamFactory(title="Secret plans", hashtag="SecretPlans")
    question = QuestionFactory(jam=jam, number=1, text="The unannounced question?")
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    outsiders: dict[str, Client] = {"anonymous": Client()}
    outsiders["participant"] = Client()
    outsiders["participant"].force_login(UserFactory())
    for who, client in outsiders.items():
        for method, path, data in draft_pages(jam.slug):
            response = getattr(client, method)(path, data)
            assert response.status_code == 404, (who, path, response.status_code)
            assert b"Secret plans" not in response.content
            assert question.text.encode() not in response.content
    insiders: dict[str, Any] = {"host": jam.host, "panelist": panelist}
    for who, user in insiders.items():
        client = Client()
        client.force_login(user)
        for method, path, data in draft_pages(jam.slug):
            response = getattr(client, method)(path, data)
            assert response.status_code == 200, (who, path, response.status_code)
