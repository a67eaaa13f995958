"""htmx requests from a logged-out browser load the log-in page as a whole page
(HX-Redirect) and come back to the page the person was on, instead of htmx swapping the
log-in page into a panel."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from jamhost.posts.models import Post
from tests.factories import JamFactory, UserFactory, live_jam

pytestmark = pytest.mark.django_db


def htmx_from(page: str) -> dict[str, str]:
    return {"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"}


def login_then(page: str) -> str:
    return f"{reverse('login')}?next={quote(page, safe='/')}"


def test_a_host_page_asked_by_htmx_sends_the_window_to_log_in(client) -> None:  # type: ignore[no-untyped-def]
    jam = JamFactory()
    edit = reverse("jams:edit", args=[jam.slug])
    response = client.post(
        reverse("jams:question_add", args=[jam.slug]),
        {"text": "Why?", "offset_minutes": "5"},
        headers=htmx_from(edit),
    )
    assert response.status_code in (200, 204)
    assert response["HX-Redirect"] == login_then(edit)
    assert "Location" not in response
    assert not response.content  # nothing for htmx to swap into the run-sheet


def test_without_a_current_url_the_view_s_own_next_is_kept(client) -> None:  # type: ignore[no-untyped-def]
    jam = JamFactory()
    edit = reverse("jams:edit", args=[jam.slug])
    response = client.get(edit, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == login_then(edit)


def test_compose_from_an_expired_session_logs_in_and_returns_to_the_room(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam()
    room = reverse("live:room", args=[jam.slug])
    response = client.post(
        reverse("live:compose", args=[jam.slug]),
        {"body": "hello", "question": "none"},
        headers=htmx_from(room),
    )
    assert response.status_code in (200, 204)
    assert response["HX-Redirect"] == login_then(room)
    # Without a current URL the compose endpoint (POST only) is still not the way back.
    response = client.post(
        reverse("live:compose", args=[jam.slug]), {"body": "hello"}, headers={"HX-Request": "true"}
    )
    assert response["HX-Redirect"] == login_then(room)
    assert not Post.objects.filter(jam=jam, body__contains="hello").exists()


def test_plain_requests_and_other_redirects_are_left_alone(client) -> None:  # type: ignore[no-untyped-def]
    jam = JamFactory()
    edit = reverse("jams:edit", args=[jam.slug])
    plain = client.get(edit)
    assert plain.status_code == 302 and plain["Location"] == login_then(edit)
    assert "HX-Redirect" not in plain
    # A logged-in htmx request that redirects elsewhere keeps its ordinary redirect.
    client.force_login(UserFactory())
    created = client.post(
        reverse("jams:create"),
        {
            "title": "Podcast chat",
            "hashtag": "#PodcastChat",
            "starts_at": f"{timezone.now().year + 1}-01-15T18:00",
            "time_zone": "UTC",
            "duration_minutes": "60",
            "description": "",
            "moderation_mode": "post",
        },
        headers={"HX-Request": "true"},
    )
    assert created.status_code == 302 and "HX-Redirect" not in created
