"""Who may open which page: one table, every page, every kind of visitor."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jamhost.jams.models import Jam, JamStatus, Question
from tests.factories import QuestionFactory

pytestmark = pytest.mark.django_db

VISITORS = ["anonymous", "participant", "panelist", "moderator", "other_host", "host", "staff"]
EDITORS = {"host", "staff"}
PEOPLE_OF_THE_JAM = {"panelist", "moderator", "host", "staff"}

# (method, url name, kwargs builder, POST data). Each is a host-only page.
HOST_PAGES = [
    ("get", "jams:edit", lambda j, q: {"slug": j.slug}, {}),
    ("post", "jams:edit", lambda j, q: {"slug": j.slug}, {"title": "Taken over"}),
    ("post", "jams:schedule", lambda j, q: {"slug": j.slug}, {}),
    ("post", "jams:unschedule", lambda j, q: {"slug": j.slug}, {}),
    (
        "post",
        "jams:question_add",
        lambda j, q: {"slug": j.slug},
        {"text": "Mine?", "offset_minutes": "0"},
    ),
    ("get", "jams:question_edit", lambda j, q: {"slug": j.slug, "pk": q.pk}, {}),
    (
        "post",
        "jams:question_edit",
        lambda j, q: {"slug": j.slug, "pk": q.pk},
        {"text": "Edited?", "offset_minutes": "0"},
    ),
    ("post", "jams:question_delete", lambda j, q: {"slug": j.slug, "pk": q.pk}, {}),
    (
        "post",
        "jams:question_move",
        lambda j, q: {"slug": j.slug, "pk": q.pk},
        {"direction": "down"},
    ),
    ("post", "jams:question_reorder", lambda j, q: {"slug": j.slug}, {"order": []}),
    ("post", "jams:invite_create", lambda j, q: {"slug": j.slug}, {"role": "moderator"}),
    (
        "post",
        "jams:member_remove",
        lambda j, q: {"slug": j.slug, "user_id": j.memberships.get(role="panelist").user_id},
        {},
    ),
]


def login(client, people, who):  # type: ignore[no-untyped-def]
    if who != "anonymous":
        client.force_login(people[who])


def snapshot(jam: Jam) -> tuple:
    jam.refresh_from_db()
    return (
        jam.title,
        jam.status,
        list(jam.questions.order_by("number").values_list("text", "number")),
        sorted(jam.memberships.values_list("user_id", "role")),
        jam.invites.count(),
    )


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize(
    ("method", "name", "kwargs", "data"), HOST_PAGES, ids=[f"{m}-{n}" for m, n, _, _ in HOST_PAGES]
)
def test_only_the_host_and_staff_may_edit(
    client, jam, people, who, method, name, kwargs, data
) -> None:  # type: ignore[no-untyped-def]
    question = jam.questions.get(number=1)
    url = reverse(name, kwargs=kwargs(jam, question))
    before = snapshot(jam)
    login(client, people, who)
    response = getattr(client, method)(url, data, HTTP_HX_REQUEST="true")
    if who == "anonymous":
        # An htmx request is sent to log in with HX-Redirect rather than a 302 that
        # htmx would follow and swap into the page.
        assert response.status_code == 200
        assert response["HX-Redirect"].startswith(reverse("login") + "?next=")
        assert snapshot(jam) == before
    elif who in EDITORS:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403
        assert "Only the jam" in response.content.decode()
        assert snapshot(jam) == before


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize("status", [JamStatus.DRAFT, JamStatus.SCHEDULED])
def test_jam_page_and_calendar(client, jam, people, who, status) -> None:  # type: ignore[no-untyped-def]
    Jam.objects.filter(pk=jam.pk).update(status=status)
    login(client, people, who)
    visible = status != JamStatus.DRAFT or who in PEOPLE_OF_THE_JAM
    page = client.get(jam.get_absolute_url())
    calendar = client.get(reverse("jams:calendar", args=[jam.slug]))
    assert page.status_code == calendar.status_code == (200 if visible else 404)
    if visible:
        html = page.content.decode()
        # The run-sheet (unreleased questions with their offsets) is for the jam's people.
        assert ("First?" in html) == (who in PEOPLE_OF_THE_JAM)
        assert ("Run-sheet" in html) == (who in PEOPLE_OF_THE_JAM)
        assert (reverse("jams:edit", args=[jam.slug]) in html) == (who in EDITORS)


@pytest.mark.parametrize("who", VISITORS)
def test_public_and_personal_pages(client, jam, people, who) -> None:  # type: ignore[no-untyped-def]
    login(client, people, who)
    assert client.get(reverse("jams:list")).status_code == 200
    assert client.get(reverse("jams:feed_upcoming")).status_code == 200
    mine = client.get(reverse("jams:mine"))
    new = client.get(reverse("jams:create"))
    if who == "anonymous":
        assert mine.status_code == new.status_code == 302
    else:
        assert mine.status_code == new.status_code == 200
        assert ("Remote work" in mine.content.decode()) == (
            who in {"panelist", "moderator", "host"}
        )


def test_released_questions_are_public_once_released(client) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import live_jam

    jam = live_jam(questions=2, released=1)
    html = client.get(jam.get_absolute_url()).content.decode()
    released, unreleased = jam.questions.order_by("number")
    assert released.text in html
    assert unreleased.text not in html


def test_another_hosts_jam_and_question_cannot_be_reached_through_mine(client, jam, people) -> None:  # type: ignore[no-untyped-def]
    theirs = Jam.objects.exclude(pk=jam.pk).get()
    their_q = QuestionFactory(jam=theirs, number=1, text="Theirs?")
    client.force_login(jam.host)
    assert client.get(reverse("jams:edit", args=[theirs.slug])).status_code == 403
    url = reverse("jams:question_edit", args=[jam.slug, their_q.pk])
    assert client.post(url, {"text": "Hijacked?", "offset_minutes": "0"}).status_code == 404
    assert Question.objects.get(pk=their_q.pk).text == "Theirs?"
