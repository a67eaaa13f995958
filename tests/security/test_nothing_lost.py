"""Nothing lost: every post the compose box accepts is committed to the database before
the answer leaves the server — seen from another connection the moment the answer
arrives — and a post that is refused leaves nothing behind."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from jamhost.posts.models import Post
from tests.security.conftest import Cast


def _committed_bodies(jam_id: int) -> list[str]:
    """Read from a connection of another thread: only committed rows are visible there."""
    found: list[str] = []

    def read() -> None:
        try:
            found.extend(
                Post.objects.filter(jam_id=jam_id, kind="post")
                .order_by("seq")
                .values_list("body", flat=True)
            )
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(10)
    return found


@pytest.mark.django_db(transaction=True)
def test_every_accepted_post_is_committed_before_the_answer(cast: Cast, settings: Any) -> None:
    settings.X_CLIENT_ID = "client"  # the jam runs on X: X's limit applies
    settings.RATE_COMPOSE_USER = settings.RATE_COMPOSE_ADDRESS = "0/60"
    client = cast.client("panelist")
    accepted: list[str] = []
    for n in range(25):
        body = f"answer {n}"
        answer = client.post(
            f"/jams/{cast.jam.slug}/live/compose/",
            {"body": body, "question": "none", "client_key": f"key-{n}"},
            HTTP_HX_REQUEST="true",
        )
        assert answer.status_code == 200 and b"Posted." in answer.content
        accepted.append(body)
        assert _committed_bodies(cast.jam.pk) == accepted  # already there, in order
    # The same form sent again (a retry after a lost answer) stores nothing twice.
    again = client.post(
        f"/jams/{cast.jam.slug}/live/compose/",
        {"body": "answer 3", "question": "none", "client_key": "key-3"},
        HTTP_HX_REQUEST="true",
    )
    assert b"Already posted" in again.content  # and says so
    assert _committed_bodies(cast.jam.pk) == accepted
    # A refused post leaves nothing behind.
    refused = client.post(
        f"/jams/{cast.jam.slug}/live/compose/",
        {"body": "x" * 400, "question": "none"},
        HTTP_HX_REQUEST="true",
    )
    assert b"limit of 280" in refused.content
    assert _committed_bodies(cast.jam.pk) == accepted
