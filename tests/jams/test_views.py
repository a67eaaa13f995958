"""The host's pages through HTTP: creating and editing a jam in local time, the run-sheet
with htmx, invites, members, scheduling, and bad input everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from jamhost.jams import lifecycle, people
from jamhost.jams.models import (
    DeletedAuthorPolicy,
    Invite,
    Jam,
    JamStatus,
    Membership,
    Question,
    Role,
)
from tests.factories import JamFactory, MembershipFactory, QuestionFactory, UserFactory, live_jam

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
NEXT_YEAR = timezone.now().year + 1


def jam_post(**overrides: str) -> dict[str, str]:
    data = {
        "title": "Podcast chat",
        "hashtag": "#PodcastChat",
        "starts_at": f"{NEXT_YEAR}-01-15T18:00",
        "time_zone": "America/New_York",
        "duration_minutes": "60",
        "description": "An hour about podcasts.",
        "moderation_mode": "post",
    }
    data.update(overrides)
    return data


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def flash(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request)]


# Creating and editing -------------------------------------------------------------------


def test_create_reads_the_start_in_the_hosts_zone_and_stores_utc(client) -> None:  # type: ignore[no-untyped-def]
    host = UserFactory()
    client.force_login(host)
    response = client.post(reverse("jams:create"), jam_post())
    jam = Jam.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("jams:edit", args=[jam.slug])
    # 18:00 in New York in January is 23:00 UTC.
    assert jam.starts_at == datetime(NEXT_YEAR, 1, 15, 23, 0, tzinfo=UTC)
    assert (jam.host, jam.hashtag, jam.status) == (host, "PodcastChat", JamStatus.DRAFT)
    page = text(client.get(response["Location"]))
    assert f'datetime="{NEXT_YEAR}-01-15T23:00:00+00:00"' in page
    assert 'class="local-time"' in page


def test_summer_time_is_applied(client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(UserFactory())
    client.post(
        reverse("jams:create"),
        jam_post(starts_at=f"{NEXT_YEAR}-07-01T09:30", time_zone="Europe/Berlin"),
    )
    assert Jam.objects.get().starts_at == datetime(NEXT_YEAR, 7, 1, 7, 30, tzinfo=UTC)


def test_no_time_zone_means_utc(client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(UserFactory())
    client.post(reverse("jams:create"), jam_post(time_zone=""))
    assert Jam.objects.get().starts_at == datetime(NEXT_YEAR, 1, 15, 18, 0, tzinfo=UTC)


def test_the_create_form_carries_the_time_zone_field_for_the_script(client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(UserFactory())
    page = text(client.get(reverse("jams:create")))
    assert 'type="datetime-local"' in page
    assert 'name="time_zone"' in page and "data-time-zone" in page
    assert "js/host.js" in page


def _dst_gap() -> str:
    # The second Sunday of March, 02:30 in New York, does not exist.
    march = datetime(NEXT_YEAR, 3, 1)
    sundays = [
        march + timedelta(days=d) for d in range(14) if (march + timedelta(days=d)).weekday() == 6
    ]
    return f"{sundays[1]:%Y-%m-%d}T02:30"


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        (
            {"title": "", "hashtag": "", "starts_at": "", "duration_minutes": ""},
            "Give the jam a title.",
        ),
        (
            {"title": "", "hashtag": "", "starts_at": "", "duration_minutes": ""},
            "Enter a hashtag, such as #PodcastChat.",
        ),
        ({"starts_at": ""}, "Pick the date and time the jam starts."),
        ({"duration_minutes": ""}, "Enter how long the jam lasts"),
        ({"title": "t" * 20_000}, "Keep the title to 200 characters (it has 20000)."),
        ({"description": "d" * 6000}, "Keep the description to 5000 characters"),
        ({"starts_at": "2026-13-45T25:61"}, "Enter a date and time, such as"),
        ({"starts_at": "tomorrow at six"}, "Enter a date and time, such as"),
        ({"starts_at": "9" * 5000}, "Enter a date and time, such as"),
        ({"starts_at": "9999-12-31T23:59"}, "Pick a start between the year 2000"),
        ({"starts_at": "0001-01-01T00:00"}, "Pick a start between the year 2000"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time zone we do not know"),
        ({"time_zone": "../../etc/passwd"}, "time zone we do not know"),
        ({"time_zone": "x" * 500}, "time zone we do not know"),
        ({"time_zone": "Europe/Berlin\x00"}, "time zone we do not know"),
        ({"duration_minutes": "sixty"}, "Enter the duration as a whole number of minutes"),
        ({"duration_minutes": "1e9"}, "Enter the duration as a whole number of minutes"),
        ({"duration_minutes": "99999999999999999999999"}, "at most 1440 minutes"),
        ({"duration_minutes": "0"}, "at least 5 minutes"),
        ({"duration_minutes": "-5"}, "at least 5 minutes"),
        ({"hashtag": "2024"}, "cannot be only digits"),
        ({"hashtag": "#" + "x" * 101}, "at most 100 characters; this one has 101"),
        ({"hashtag": "two words"}, "letters, digits and underscores"),
        ({"hashtag": "<script>"}, "letters, digits and underscores"),
        ({"moderation_mode": "chaos"}, "Choose post-moderation or pre-moderation."),
        ({"deleted_author_policy": "shred"}, "Choose to keep their posts as a deleted user"),
    ],
)
def test_bad_jam_input_gets_field_errors(client, overrides, field_message) -> None:  # type: ignore[no-untyped-def]
    client.force_login(UserFactory())
    response = client.post(reverse("jams:create"), jam_post(**overrides))
    assert response.status_code == 200
    assert field_message in text(response)
    assert 'role="alert"' in text(response)
    assert not Jam.objects.exists()


def test_a_time_the_clocks_skip_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(UserFactory())
    response = client.post(reverse("jams:create"), jam_post(starts_at=_dst_gap()))
    assert "does not exist in America/New_York" in text(response)
    assert not Jam.objects.exists()


def test_a_reserved_hashtag_names_the_jam_holding_it(client) -> None:  # type: ignore[no-untyped-def]
    JamFactory(
        title="Podcasters unite",
        hashtag="podcastchat",
        status=JamStatus.SCHEDULED,
        starts_at=datetime(NEXT_YEAR, 1, 15, 23, 30, tzinfo=UTC),
    )
    client.force_login(UserFactory())
    response = client.post(reverse("jams:create"), jam_post(hashtag="PODCASTCHAT"))
    assert "is reserved by “Podcasters unite”" in text(response)
    assert Jam.objects.count() == 1


def test_edit_shows_the_start_for_the_script_and_saves(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    page = text(client.get(reverse("jams:edit", args=[jam.slug])))
    assert f'data-utc="{jam.starts_at.isoformat()}"' in page
    assert 'value="#RemoteChat"' in page
    response = client.post(
        reverse("jams:edit", args=[jam.slug]),
        jam_post(title="Remote work, again", hashtag="RemoteChat", time_zone="Asia/Tokyo"),
    )
    assert response.status_code == 302
    jam.refresh_from_db()
    assert jam.title == "Remote work, again"
    assert jam.starts_at == datetime(NEXT_YEAR, 1, 15, 9, 0, tzinfo=UTC)


def test_the_host_chooses_what_becomes_of_a_deleted_accounts_posts(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    form = text(client.get(reverse("jams:create")))
    assert '<option value="anonymize" selected>Keep their posts, shown as a deleted user' in form
    assert '<option value="remove">Remove their posts</option>' in form
    assert "their posts are taken out of the jam, words and all" in form
    client.post(reverse("jams:create"), jam_post(deleted_author_policy="remove"))
    created = Jam.objects.get(title="Podcast chat")
    assert created.deleted_author_policy == DeletedAuthorPolicy.REMOVE
    assert "their posts here are removed" in text(client.get(created.get_absolute_url()))

    edit = reverse("jams:edit", args=[jam.slug])
    assert jam.deleted_author_policy == DeletedAuthorPolicy.ANONYMIZE
    assert "their posts here are shown as a deleted user" in text(
        client.get(jam.get_absolute_url())
    )
    client.post(edit, jam_post(hashtag="RemoteChat", deleted_author_policy="remove"))
    jam.refresh_from_db()
    assert jam.deleted_author_policy == DeletedAuthorPolicy.REMOVE
    assert '<option value="remove" selected>' in text(client.get(edit))
    # A form sent without the field leaves the choice as it was.
    client.post(edit, jam_post(hashtag="RemoteChat", title="Renamed"))
    jam.refresh_from_db()
    assert (jam.title, jam.deleted_author_policy) == ("Renamed", DeletedAuthorPolicy.REMOVE)


def test_the_live_room_states_the_deletion_policy(client) -> None:  # type: ignore[no-untyped-def]
    keeping, removing = live_jam(), live_jam(deleted_author_policy=DeletedAuthorPolicy.REMOVE)
    room = text(client.get(reverse("live:room", args=[keeping.slug])))
    assert "If someone deletes their jamhost account, their posts here are shown as a" in room
    room = text(client.get(reverse("live:room", args=[removing.slug])))
    assert "If someone deletes their jamhost account, their posts here are removed" in room
    # Once the details are locked, the host's page still says which policy is in force.
    client.force_login(removing.host)
    assert "their posts here are removed" in text(
        client.get(reverse("jams:edit", args=[removing.slug]))
    )


def test_edit_bad_input_keeps_the_jam(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    response = client.post(reverse("jams:edit", args=[jam.slug]), jam_post(hashtag="123"))
    assert response.status_code == 200
    assert "cannot be only digits" in text(response)
    jam.refresh_from_db()
    assert jam.hashtag == "RemoteChat"


def test_a_live_jams_details_are_locked(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam()
    client.force_login(jam.host)
    assert "can no longer change" in text(client.get(reverse("jams:edit", args=[jam.slug])))
    response = client.post(reverse("jams:edit", args=[jam.slug]), jam_post(hashtag=jam.hashtag))
    assert response.status_code == 200
    assert "can no longer be edited" in text(response)


# Scheduling -----------------------------------------------------------------------------


def test_schedule_is_refused_with_the_reason(client) -> None:  # type: ignore[no-untyped-def]
    jam = JamFactory()
    client.force_login(jam.host)
    response = client.post(reverse("jams:schedule", args=[jam.slug]), follow=True)
    assert "Not scheduled: Add at least one question before scheduling the jam." in text(response)
    QuestionFactory(jam=jam, number=1)
    Jam.objects.filter(pk=jam.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    response = client.post(reverse("jams:schedule", args=[jam.slug]), follow=True)
    assert "The start time has passed" in text(response)
    jam.refresh_from_db()
    assert jam.status == JamStatus.DRAFT


def test_schedule_and_unschedule(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    response = client.post(reverse("jams:schedule", args=[jam.slug]))
    assert response.status_code == 302
    jam.refresh_from_db()
    assert jam.status == JamStatus.SCHEDULED
    response = client.post(reverse("jams:unschedule", args=[jam.slug]), follow=True)
    jam.refresh_from_db()
    assert jam.status == JamStatus.DRAFT
    response = client.post(reverse("jams:unschedule", args=[jam.slug]), follow=True)
    assert "Not unscheduled: A draft jam cannot become draft." in text(response)


def test_schedule_needs_post(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    assert client.get(reverse("jams:schedule", args=[jam.slug])).status_code == 405


# The run-sheet --------------------------------------------------------------------------


def test_add_a_question_returns_the_run_sheet_partial(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    response = client.post(
        reverse("jams:question_add", args=[jam.slug]),
        {"text": "Third?", "offset_minutes": "20"},
        **HTMX,
    )
    page = text(response)
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="question-sheet"')
    assert "<html" not in page
    assert "Third?" in page and "at +20 min" in page
    assert jam.questions.get(number=3).text == "Third?"


def test_add_a_question_without_htmx_redirects_back(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    response = client.post(
        reverse("jams:question_add", args=[jam.slug]), {"text": "Third?", "offset_minutes": "0"}
    )
    assert response["Location"].endswith("/edit/#questions")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"text": "", "offset_minutes": "0"}, "Write the question."),
        ({"text": "   ", "offset_minutes": "0"}, "Write the question."),
        ({"text": "x" * 5000, "offset_minutes": "0"}, "this one has 5000"),
        ({"text": "Fine?", "offset_minutes": "soon"}, "Enter the release time as whole minutes"),
        ({"text": "Fine?", "offset_minutes": "1.5"}, "Enter the release time as whole minutes"),
        ({"text": "Fine?", "offset_minutes": ""}, "Enter when to release it"),
        ({"text": "Fine?", "offset_minutes": "-3"}, "cannot be before the start"),
        ({"text": "Fine?", "offset_minutes": "60"}, "0 to 59 minutes after the start"),
        ({"text": "Fine?", "offset_minutes": "9" * 40}, "must be within the jam"),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_bad_question_input_gets_field_errors(client, jam: Jam, data, message, htmx) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    headers = HTMX if htmx else {}
    response = client.post(reverse("jams:question_add", args=[jam.slug]), data, **headers)
    assert response.status_code == 200
    assert message in text(response)
    assert jam.questions.count() == 2


def test_edit_a_question_inline(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    q1 = jam.questions.get(number=1)
    url = reverse("jams:question_edit", args=[jam.slug, q1.pk])
    form = text(client.get(url, **HTMX))
    assert f'hx-post="{url}"' in form and "First?" in form
    response = client.post(url, {"text": "First, edited?", "offset_minutes": "5"}, **HTMX)
    assert "First, edited?" in text(response)
    q1.refresh_from_db()
    assert (q1.text, q1.offset_minutes) == ("First, edited?", 5)
    response = client.post(url, {"text": "", "offset_minutes": "x"}, **HTMX)
    assert "Write the question." in text(response)
    assert "Enter the release time as whole minutes" in text(response)


def test_released_questions_are_locked_and_say_so(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam(questions=3, released=1)
    q1, q2, _ = jam.questions.order_by("number")
    client.force_login(jam.host)
    page = text(client.get(reverse("jams:edit", args=[jam.slug])))
    assert "locked: a released question cannot be edited, moved or removed" in page
    assert reverse("jams:question_edit", args=[jam.slug, q1.pk]) not in page
    assert reverse("jams:question_edit", args=[jam.slug, q2.pk]) in page
    for name, data in [
        ("jams:question_edit", {"text": "Changed?", "offset_minutes": "0"}),
        ("jams:question_delete", {}),
        ("jams:question_move", {"direction": "down"}),
    ]:
        response = client.post(reverse(name, args=[jam.slug, q1.pk]), data, **HTMX)
        assert response.status_code == 200
        assert "Q1" in text(response) and "released" in text(response)
    q1.refresh_from_db()
    assert (q1.number, q1.text) == (1, jam.questions.get(number=1).text)
    assert q1.text != "Changed?"
    assert jam.questions.count() == 3
    response = client.post(
        reverse("jams:question_move", args=[jam.slug, q2.pk]), {"direction": "up"}, **HTMX
    )
    assert "Q1 is released and keeps its place" in text(response)


def test_move_and_delete(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    _q1, q2 = jam.questions.order_by("number")
    client.post(reverse("jams:question_move", args=[jam.slug, q2.pk]), {"direction": "up"}, **HTMX)
    assert list(jam.questions.order_by("number").values_list("text", "offset_minutes")) == [
        ("Second?", 0),
        ("First?", 10),
    ]
    response = client.post(
        reverse("jams:question_move", args=[jam.slug, q2.pk]), {"direction": "up"}, **HTMX
    )
    assert "Q1 cannot move that way." in text(response)
    response = client.post(
        reverse("jams:question_move", args=[jam.slug, q2.pk]), {"direction": "sideways"}, **HTMX
    )
    assert "cannot move that way" in text(response)
    client.post(reverse("jams:question_delete", args=[jam.slug, q2.pk]), **HTMX)
    assert list(jam.questions.values_list("text", "number")) == [("First?", 1)]


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (["abc"], "must list the questions by their ids"),
        (["1e3"], "must list the questions by their ids"),
        ([], "questions once"),
        (["999999", "999998"], "questions once"),
    ],
)
def test_reorder_with_odd_ids(client, jam: Jam, order, message) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    response = client.post(
        reverse("jams:question_reorder", args=[jam.slug]), {"order": order}, **HTMX
    )
    assert response.status_code == 200
    assert message in text(response)
    assert list(jam.questions.order_by("number").values_list("text", flat=True)) == [
        "First?",
        "Second?",
    ]


def test_reorder_with_all_ids(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    q1, q2 = jam.questions.order_by("number")
    client.post(
        reverse("jams:question_reorder", args=[jam.slug]), {"order": f"{q2.pk},{q1.pk}"}, **HTMX
    )
    assert list(jam.questions.order_by("number").values_list("text", flat=True)) == [
        "Second?",
        "First?",
    ]


def test_another_hosts_question_ids_are_not_found(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    theirs = QuestionFactory(jam=JamFactory(hashtag="Elsewhere"), number=1, text="Theirs?")
    client.force_login(jam.host)
    for name in ("jams:question_edit", "jams:question_delete", "jams:question_move"):
        assert (
            client.post(
                reverse(name, args=[jam.slug, theirs.pk]),
                {"text": "Mine now?", "offset_minutes": "0", "direction": "up"},
            ).status_code
            == 404
        )
    assert (
        client.post(
            reverse("jams:question_reorder", args=[jam.slug]), {"order": [theirs.pk]}, **HTMX
        ).status_code
        == 200
    )
    theirs.refresh_from_db()
    assert (theirs.text, theirs.number) == ("Theirs?", 1)
    assert client.post(reverse("jams:question_edit", args=[jam.slug, 10**12])).status_code == 404


# People ---------------------------------------------------------------------------------


def test_invite_link_is_shown_to_copy(client, jam: Jam, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SITE_URL = "https://jams.example.org"
    client.force_login(jam.host)
    response = client.post(
        reverse("jams:invite_create", args=[jam.slug]), {"role": "moderator", "note": "Ann"}, **HTMX
    )
    invite = Invite.objects.get()
    assert (invite.role, invite.note, invite.created_by) == (Role.MODERATOR, "Ann", jam.host)
    assert f"https://jams.example.org/invites/{invite.token}/" in text(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role": "host"}, "Invite a panelist or a moderator."),
        ({"role": ""}, "This field is required"),
        ({"role": "panelist", "note": "n" * 500}, "Keep the note to 120 characters"),
    ],
)
def test_bad_invite_input(client, jam: Jam, data, message) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    response = client.post(reverse("jams:invite_create", args=[jam.slug]), data, **HTMX)
    assert message in text(response)
    assert not Invite.objects.exists()


def test_remove_a_member(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    pat = Membership.objects.get(jam=jam, role=Role.PANELIST).user
    response = client.post(reverse("jams:member_remove", args=[jam.slug, pat.pk]), **HTMX)
    assert "@pat is no longer in the jam." in text(response)
    assert not Membership.objects.filter(jam=jam, user=pat).exists()
    assert client.post(reverse("jams:member_remove", args=[jam.slug, pat.pk])).status_code == 404
    response = client.post(reverse("jams:member_remove", args=[jam.slug, jam.host_id]), **HTMX)
    assert "The host cannot be removed" in text(response)


# Invite links ---------------------------------------------------------------------------


@pytest.fixture
def invite(jam: Jam) -> Invite:
    return people.invite_create(jam=jam, role=Role.PANELIST, actor=jam.host)


def test_anonymous_visitors_see_the_invite_then_sign_up_and_come_back(
    client, invite: Invite
) -> None:  # type: ignore[no-untyped-def]
    url = invite.get_absolute_url()
    invite.jam.host.first_name = "Hana"
    invite.jam.host.save()
    page = text(client.get(url))
    # The jam, its host, the role and the time, before any account exists.
    assert "Join “Remote work” as panelist" in page
    assert "#RemoteChat" in page and "Hana @hana" in page
    assert "Panelist: you answer each question" in page
    assert f'datetime="{invite.jam.starts_at:%Y-%m-%dT%H:%M:%S}' in page
    assert f'href="{reverse("signup")}?next={url}">Sign up to accept' in page
    assert f'href="{reverse("login")}?next={url}">Log in to accept' in page
    assert "Accept: join" not in page
    # Accepting needs an account: a POST without one goes to log in and back.
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Membership.objects.filter(
        jam=invite.jam, role=Role.PANELIST, user__username="newbie"
    )
    login_page = text(client.get(f"{reverse('login')}?next={url}"))
    assert f"{reverse('signup')}?next={url}" in login_page
    response = client.post(
        reverse("signup"),
        {
            "username": "newbie",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
            "next": url,
        },
    )
    assert response["Location"] == url
    page = text(client.get(url))
    assert "Accept: join as panelist" in page
    response = client.post(url)
    assert response["Location"] == invite.jam.get_absolute_url()
    assert Membership.objects.get(jam=invite.jam, user__username="newbie").role == Role.PANELIST


def test_log_in_and_come_back(client, invite: Invite) -> None:  # type: ignore[no-untyped-def]
    UserFactory(username="returning")
    url = invite.get_absolute_url()
    response = client.post(
        reverse("login"),
        {"username": "returning", "password": "correct-horse-battery", "next": url},
    )
    assert response["Location"] == url


def test_an_invite_works_once(client, invite: Invite) -> None:  # type: ignore[no-untyped-def]
    gus = UserFactory(username="gus2")
    client.force_login(gus)
    client.post(invite.get_absolute_url())
    response = client.post(invite.get_absolute_url())
    assert response.status_code == 400
    assert "already used by you" in text(response)
    client.force_login(UserFactory())
    response = client.post(invite.get_absolute_url())
    assert "already used by someone else" in text(response)
    assert "already used" in text(client.get(invite.get_absolute_url()))
    assert Membership.objects.filter(jam=invite.jam, role=Role.PANELIST).count() == 2  # pat + gus2


def test_an_expired_invite(client, invite: Invite) -> None:  # type: ignore[no-untyped-def]
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(UserFactory())
    assert "has expired" in text(client.get(invite.get_absolute_url()))
    response = client.post(invite.get_absolute_url())
    assert response.status_code == 400 and "has expired" in text(response)


def test_the_host_cannot_accept_their_own_invite(client, invite: Invite) -> None:  # type: ignore[no-untyped-def]
    client.force_login(invite.jam.host)
    response = client.post(invite.get_absolute_url())
    assert "You host this jam already" in text(response)


@pytest.mark.parametrize("token", ["nope", "x" * 300, "%00", "..%2F..%2Fetc"])
def test_unknown_invite_tokens(client, token: str) -> None:  # type: ignore[no-untyped-def]
    client.force_login(UserFactory())
    response = client.get(f"/invites/{token}/")
    assert response.status_code == 404
    assert "not valid" in text(response) or "nothing at this address" in text(response)


def test_a_get_does_not_use_up_the_invite(client, invite: Invite) -> None:  # type: ignore[no-untyped-def]
    client.force_login(UserFactory())
    client.get(invite.get_absolute_url())
    invite.refresh_from_db()
    assert invite.accepted_at is None


# My jams and the public pages -------------------------------------------------------------


def test_my_jams_lists_hosted_and_member_jams(client, jam: Jam, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    pat = Membership.objects.get(jam=jam, role=Role.PANELIST).user
    own = JamFactory(host=pat, title="Pats own", hashtag="PatsOwn")
    JamFactory(title="Someone else's", hashtag="Elsewhere")
    client.force_login(pat)
    client.get(reverse("jams:mine"))  # warm the session
    with django_assert_num_queries(4):  # session, user, memberships, jams
        page = text(client.get(reverse("jams:mine")))
    assert "Remote work" in page and "Pats own" in page
    assert "Someone else" not in page
    assert reverse("jams:edit", args=[own.slug]) in page
    assert reverse("jams:edit", args=[jam.slug]) not in page
    for n in range(5):
        MembershipFactory(jam=JamFactory(hashtag=f"More{n}"), user=pat)
    with django_assert_num_queries(4):
        client.get(reverse("jams:mine"))


def test_the_jam_list_takes_three_queries(client, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        JamFactory(status=JamStatus.SCHEDULED, hashtag=f"Up{n}")
    live_jam()
    JamFactory(status=JamStatus.ENDED, hashtag="Past", starts_at=timezone.now() - timedelta(days=3))
    with django_assert_num_queries(3):
        page = text(client.get(reverse("jams:list")))
    assert page.count('class="jam-card"') == 5
    for n in range(10):
        JamFactory(status=JamStatus.SCHEDULED, hashtag=f"More{n}")
    with django_assert_num_queries(3):
        client.get(reverse("jams:list"))


def test_the_jam_page_offers_the_calendar_and_the_editor(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    page = text(client.get(jam.get_absolute_url()))
    assert reverse("jams:calendar", args=[jam.slug]) in page
    assert reverse("jams:edit", args=[jam.slug]) in page


def test_nav_links_for_signed_in_users(client) -> None:  # type: ignore[no-untyped-def]
    assert reverse("jams:mine") not in text(client.get("/"))
    client.force_login(UserFactory())
    page = text(client.get("/"))
    assert reverse("jams:mine") in page and reverse("jams:create") in page


def test_create_requires_a_login(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(reverse("jams:create"), jam_post())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Jam.objects.exists()
    assert Question.objects.count() == 0


@pytest.mark.parametrize("big", [10**18, 10**30])
def test_ids_too_big_for_the_database_are_not_found(client, jam: Jam, big: int) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    for url in (
        f"/jams/{jam.slug}/questions/{big}/edit/",
        f"/jams/{jam.slug}/questions/{big}/delete/",
        f"/jams/{jam.slug}/questions/{big}/move/",
        f"/jams/{jam.slug}/members/{big}/remove/",
    ):
        assert client.post(url, {"text": "x?", "offset_minutes": "1"}).status_code == 404
    response = client.post(
        reverse("jams:question_reorder", args=[jam.slug]), {"order": [str(big), "1"]}, **HTMX
    )
    assert "questions once" in text(response)


def test_an_ended_jam_takes_no_more_questions_or_invites(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam(questions=1, released=1)
    lifecycle.jam_end(jam=jam)
    client.force_login(jam.host)
    response = client.post(
        reverse("jams:question_add", args=[jam.slug]),
        {"text": "Late?", "offset_minutes": "1"},
        **HTMX,
    )
    assert "The jam is over; its questions can no longer change." in text(response)
    response = client.post(
        reverse("jams:invite_create", args=[jam.slug]), {"role": "panelist"}, **HTMX
    )
    assert "invites are closed" in text(response)
    assert jam.questions.count() == 1
    assert not Invite.objects.exists()


def test_move_buttons_only_where_a_move_is_allowed(client) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam(questions=3, released=1)
    client.force_login(jam.host)
    page = text(client.get(reverse("jams:edit", args=[jam.slug])))
    assert "Move Q1" not in page  # released
    assert "Move Q2 up" not in page  # would pass the released Q1
    assert "Move Q2 down" in page and "Move Q3 up" in page
    assert "Move Q3 down" not in page


def test_a_used_or_expired_invite_says_so_to_anonymous_visitors(client, invite: Invite) -> None:  # type: ignore[no-untyped-def]
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    page = text(client.get(invite.get_absolute_url()))
    assert "has expired" in page and "Sign up to accept" not in page


def test_the_front_page_says_what_a_jam_is_and_offers_to_host_one(client) -> None:  # type: ignore[no-untyped-def]
    page = text(client.get(reverse("jams:list")))
    assert "A Tweet Jam is an hour of questions and answers under one hashtag" in page
    assert f'href="{reverse("signup")}?next={reverse("jams:create")}">Host a jam' in page
    client.force_login(UserFactory())
    page = text(client.get(reverse("jams:list")))
    assert f'href="{reverse("jams:create")}">Host a jam' in page


def test_a_draft_whose_start_has_passed_warns(client, jam: Jam) -> None:  # type: ignore[no-untyped-def]
    client.force_login(jam.host)
    warning = "The start time has passed. Move it into the future"
    assert warning not in text(client.get(reverse("jams:edit", args=[jam.slug])))
    Jam.objects.filter(pk=jam.pk).update(starts_at=timezone.now() - timedelta(minutes=5))
    assert warning in text(client.get(reverse("jams:edit", args=[jam.slug])))
