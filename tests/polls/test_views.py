"""The poll endpoints: a vote answers JSON for the room's script or redirects with a
message; bad input is refused in words (400/403/404), never a 500, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from jamhost.jams.models import Jam
from jamhost.polls.models import Poll, PollState, PollVote
from jamhost.polls.services import poll_close
from tests.polls.conftest import PollRoom
from tests.security.naughty import NAUGHTY

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def vote_url(poll: Poll) -> str:
    return f"/jams/{poll.jam.slug}/polls/{poll.pk}/vote/"


def test_a_vote_through_the_page_is_counted_and_told() -> None:
    room = PollRoom()
    poll = room.launch()
    client = signed_in(room.voters[0])
    answer = client.post(vote_url(poll), {"option": "2"}, **JSON)
    assert answer.status_code == 200
    assert answer.json() == {"ok": True, "message": "Your vote is counted.", "option": "2"}
    again = client.post(vote_url(poll), {"option": "2"}, **JSON)
    assert again.json()["message"] == "That is already your vote."
    without_js = client.post(vote_url(poll), {"option": "3"}, follow=True)
    assert "Your vote is counted." in without_js.content.decode()
    assert PollVote.objects.get(poll=poll).option.position == 3


NOT_OPTIONS = [s for s in NAUGHTY[:60] if s.strip() not in {"1", "2", "3"}][:30]


@pytest.mark.parametrize(
    "option", ["0", "5", "", "-1", "1.5", "+1", " 2", "٣", "1_0", "x" * 5000, *NOT_OPTIONS]
)
def test_a_vote_for_an_option_that_does_not_exist_is_a_400_in_words(option: str) -> None:
    room = PollRoom()
    poll = room.launch()
    rev = Jam.objects.get(pk=room.jam.pk).rev
    answer = signed_in(room.voters[0]).post(vote_url(poll), {"option": option}, **JSON)
    assert answer.status_code == 400
    assert "pick one of its 3 options" in answer.json()["message"]
    assert not PollVote.objects.exists()
    assert Jam.objects.get(pk=room.jam.pk).rev == rev


def test_a_vote_after_closing_is_a_400_in_words() -> None:
    room = PollRoom()
    poll = room.launch()
    poll_close(poll=poll)
    answer = signed_in(room.voters[0]).post(vote_url(poll), {"option": "1"}, **JSON)
    assert answer.status_code == 400
    assert answer.json()["message"] == "This poll has closed; votes are no longer counted."
    assert not PollVote.objects.exists()


def test_voting_signed_out_or_in_another_jams_poll_is_refused() -> None:
    room, other = PollRoom(), PollRoom()
    poll = room.launch()
    answer = Client().post(vote_url(poll), {"option": "1"}, **JSON)
    assert answer.status_code == 403 and "Sign in" in answer.json()["message"]
    wrong = signed_in(room.voters[0]).post(
        f"/jams/{other.jam.slug}/polls/{poll.pk}/vote/", {"option": "1"}, **JSON
    )
    assert wrong.status_code == 404
    huge = signed_in(room.voters[0]).post(
        f"/jams/{room.jam.slug}/polls/{'9' * 30}/vote/", {"option": "1"}, **JSON
    )
    assert huge.status_code == 404
    assert not PollVote.objects.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["Only one"], "needs 2 to 4 options; this one has 1"),
        ([f"Option {n}" for n in range(11)], "at most 4 options (as on X); this one has 11"),
    ],
)
def test_launching_a_poll_with_one_option_or_eleven_is_refused_in_words(
    options: list[str], message: str
) -> None:
    room = PollRoom()
    client = signed_in(room.host)
    answer = client.post(
        f"/jams/{room.jam.slug}/polls/launch/",
        {"text": "Well?", "option": options, "minutes": "5"},
        follow=True,
    )
    assert answer.status_code == 200
    assert message in answer.content.decode()
    added = client.post(
        f"/jams/{room.jam.slug}/polls/add/",
        {"text": "Well?", "options": "\n".join(options), "minutes": "5", "offset": "10"},
        follow=True,
    )
    assert message in added.content.decode()
    assert not Poll.objects.exists()


@pytest.mark.parametrize("text", NAUGHTY[:40])
def test_naughty_strings_as_a_poll_never_make_a_500(text: str) -> None:
    room = PollRoom()
    client = signed_in(room.moderator)
    answer = client.post(
        f"/jams/{room.jam.slug}/polls/launch/",
        {"text": text, "option": [text, f"{text[:20]}!"], "minutes": text[:10]},
    )
    assert answer.status_code == 302


def test_a_stranger_cannot_launch_add_close_or_remove_polls() -> None:
    room = PollRoom()
    poll = room.launch()
    client = signed_in(room.voters[0])
    base = f"/jams/{room.jam.slug}/polls"
    for url in (
        f"{base}/launch/",
        f"{base}/add/",
        f"{base}/{poll.pk}/close/",
        f"{base}/{poll.pk}/delete/",
    ):
        assert (
            client.post(url, {"text": "Q?", "option": ["A", "B"], "minutes": "5"}).status_code
            == 403
        )
    assert Poll.objects.get(pk=poll.pk).state == PollState.OPEN
    assert Poll.objects.count() == 1


def test_the_room_console_screen_and_embed_show_the_poll(client: Client) -> None:
    room = PollRoom()
    poll = room.launch()
    Jam.objects.filter(pk=room.jam.pk).update(embed_origins=[])
    host = signed_in(room.host)
    for url, who in (
        (f"/jams/{room.jam.slug}/live/", client),
        (f"/jams/{room.jam.slug}/console/", host),
        (f"/jams/{room.jam.slug}/screen/", client),
        (f"/jams/{room.jam.slug}/embed/", client),
    ):
        page = who.get(url)
        assert page.status_code == 200, url
        assert f'id="poll-{poll.pk}"' in page.content.decode(), url
    assert "Launch a poll now" in host.get(f"/jams/{room.jam.slug}/live/").content.decode()
    assert "data-can-vote" not in client.get(f"/jams/{room.jam.slug}/live/").content.decode()


def test_without_x_the_forms_offer_no_x_poll_and_a_forged_one_is_refused(settings: Any) -> None:
    settings.X_CLIENT_ID = ""
    room = PollRoom()
    host = signed_in(room.host)
    page = host.get(f"/jams/{room.jam.slug}/live/").content.decode()
    assert "Launch a poll now" in page and 'name="on_x"' not in page
    answer = host.post(
        f"/jams/{room.jam.slug}/polls/launch/",
        {"text": "Q?", "option": ["A", "B"], "minutes": "5", "on_x": "on"},
        follow=True,
    )
    assert "not connected to X" in answer.content.decode()
    assert not Poll.objects.exists()


def test_mine_tells_each_person_their_own_votes_only() -> None:
    room = PollRoom()
    poll = room.launch()
    client = signed_in(room.voters[0])
    client.post(vote_url(poll), {"option": "3"}, **JSON)
    signed_in(room.voters[1]).post(vote_url(poll), {"option": "1"}, **JSON)
    mine = client.get(f"/jams/{room.jam.slug}/polls/mine.json")
    assert mine.json() == {"votes": {str(poll.pk): 3}}
    assert mine["Cache-Control"] == "private, no-store"
    assert Client().get(f"/jams/{room.jam.slug}/polls/mine.json").json() == {"votes": {}}


def test_too_many_votes_at_once_are_refused_in_words(settings: Any) -> None:
    settings.RATE_POLL_VOTE_USER = "2/60"
    room = PollRoom()
    poll = room.launch()
    client = signed_in(room.voters[0])
    assert client.post(vote_url(poll), {"option": "1"}, **JSON).status_code == 200
    assert client.post(vote_url(poll), {"option": "2"}, **JSON).status_code == 200
    refused = client.post(vote_url(poll), {"option": "3"}, **JSON)
    assert refused.status_code == 429
    assert refused.json()["message"].startswith("Too many poll votes for now: try again in")
    assert PollVote.objects.get(poll=poll).option.position == 2
