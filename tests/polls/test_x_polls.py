"""A poll also run as a native X poll, through the X-compatible test server: created with
X's `poll` field from the host's account, read once after X closes it (one post read,
counted in the host's cost panel), shown beside the room's results with where each comes
from and what the read cost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.utils import timezone

from jamhost.networks.models import JamNetwork, XStatus
from jamhost.networks.publishing import post_publish, publications_due
from jamhost.networks.usage import jam_cost
from jamhost.polls.live import render_poll
from jamhost.polls.models import Poll, PollState, XPollState
from jamhost.polls.services import poll_add, poll_launch, poll_open, poll_vote
from jamhost.polls.sweep import polls_sweep
from tests.networks.conftest import link_x
from tests.polls.conftest import PollRoom
from tests.xstate import on_x

pytestmark = pytest.mark.django_db


def launch_on_x(room: PollRoom, captured: Any, minutes: int = 5) -> Poll:
    with captured(execute=True):
        poll = poll_launch(
            jam=room.jam,
            user=room.host,
            text="Which editor?",
            options=["Vim", "Emacs", "Other"],
            open_minutes=minutes,
            on_x=True,
        )
    return Poll.objects.select_related("x_post").get(pk=poll.pk)


def test_a_poll_goes_to_x_and_its_results_are_read_once_after_it_closes(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room = PollRoom()
    account = link_x(x_server, room.host)
    poll = launch_on_x(room, django_capture_on_commit_callbacks)

    [created] = [r[3] for r in x_server.requests_to("/2/tweets", "POST")]
    assert created["poll"] == {"options": ["Vim", "Emacs", "Other"], "duration_minutes": 5}
    assert created["text"] == f"📊 Which editor? {room.jam.tag}"
    post = poll.x_post
    assert on_x(post).status == XStatus.PUBLISHED
    [tweet] = x_server.tweets_by(account.x_user_id)
    assert tweet["id"] == on_x(post).x_id and "poll_ids" in tweet["attachments"]

    x_server.poll_votes_add(on_x(post).x_id, [4, 1, 0])
    for voter in room.voters[:2]:
        poll_vote(poll_id=poll.pk, user=voter, option=2)
    reads_before = jam_cost(jam_id=room.jam.pk).reads

    # Before X has closed its poll nothing is read.
    now = timezone.now()
    assert polls_sweep(now=now + timedelta(minutes=2)).read_on_x == []
    x_server.advance(6 * 60)
    later = now + timedelta(minutes=6)
    first = polls_sweep(now=later)
    assert poll.pk in first.closed and first.read_on_x == [poll.pk]
    assert polls_sweep(now=later + timedelta(minutes=1)).read_on_x == []  # once

    reads = x_server.requests_to("/2/tweets", "GET")
    assert len(reads) == 1
    query = reads[0][2]
    assert query["ids"] == [on_x(post).x_id]
    assert "attach_polls.poll_ids" in query["expansions"][0]
    assert "voting_status" in query["poll.fields"][0]

    fresh = Poll.objects.select_related("jam").get(pk=poll.pk)
    assert fresh.state == PollState.CLOSED and fresh.x_state == XPollState.READ
    assert fresh.x_results["voting_status"] == "closed"
    assert [o["votes"] for o in fresh.x_results["options"]] == [4, 1, 0]
    assert fresh.x_reads == 1
    assert jam_cost(jam_id=room.jam.pk).reads == reads_before + 1

    fragment = render_poll(fresh)
    room_part, x_part = fragment.split('class="poll-x"')
    assert "2 votes</span> in the room" in room_part
    assert "On X (closed), read once after it closed: 1 post read, $0.005." in x_part
    assert 'data-votes="4"' in x_part and 'data-votes="4"' not in room_part


def test_an_x_poll_needs_five_minutes_and_the_hosts_x_account(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room = PollRoom()
    with pytest.raises(ValidationError, match="X account is not connected"):
        launch_on_x(room, django_capture_on_commit_callbacks)
    link_x(x_server, room.host)
    with pytest.raises(
        ValidationError, match=r"on X is open from 5 to 10080 minutes \(7 days\); 4 is outside"
    ):
        launch_on_x(room, django_capture_on_commit_callbacks, minutes=4)
    assert not Poll.objects.exists()
    assert x_server.requests_to("/2/tweets", "POST") == []


def test_the_test_server_refuses_polls_x_would_refuse(x_server: Any, settings: Any) -> None:
    room = PollRoom()
    account = link_x(x_server, room.host)
    token = x_server.token_issue(account.x_user_id)[0]
    url = f"{settings.X_API_BASE_URL}/2/tweets"
    for poll in (
        {"options": ["Only"], "duration_minutes": 5},
        {"options": [str(n) for n in range(11)], "duration_minutes": 5},
        {"options": ["A", "B"], "duration_minutes": 4},
        {"options": ["A", "x" * 26], "duration_minutes": 5},
    ):
        answer = requests.post(
            url,
            json={"text": "Poll?", "poll": poll},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert answer.status_code == 400, poll
        assert answer.json()["title"] == "Invalid Request"
    assert x_server.tweets_by(account.x_user_id) == []


@pytest.mark.parametrize(
    ("fault", "creates"),
    [("503_after_create", 1), ("drop_after_create", 1), ("503", 2), ("drop", 2)],
)
def test_an_x_poll_has_the_posts_bounded_bill_and_is_never_created_twice(
    fault: str, creates: int, x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room = PollRoom()
    account = link_x(x_server, room.host)
    x_server.fault_next("/2/tweets", fault)
    start = timezone.now()
    poll = launch_on_x(room, django_capture_on_commit_callbacks)
    now = start
    for _ in range(120):  # ten minutes of the sweep, both clocks moving on
        now += timedelta(seconds=5)
        x_server.advance(5)
        for post_id in publications_due(now=now):
            post_publish(post_id=post_id, now=now)
    sent = x_server.requests_to("/2/tweets", "POST")
    assert len(sent) == creates <= 2
    assert all(r[3]["poll"]["options"] == ["Vim", "Emacs", "Other"] for r in sent)
    assert sum(x_server.served.values()) <= 30
    polls_on_x = [t for t in x_server.tweets_by(account.x_user_id) if "attachments" in t]
    assert len(polls_on_x) == 1  # one native poll, whatever X answered
    post = Poll.objects.select_related("x_post").get(pk=poll.pk).x_post
    assert on_x(post).status == XStatus.PUBLISHED
    assert on_x(post).x_id == polls_on_x[0]["id"]


def test_a_jam_run_without_x_offers_and_takes_no_x_poll(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room = PollRoom()
    link_x(x_server, room.host)
    form = Template("{% load polls %}{% poll_launch_form jam %}{% poll_run_sheet jam %}")
    assert form.render(Context({"jam": room.jam})).count('name="on_x"') == 2
    JamNetwork.objects.create(jam=room.jam, network="x", enabled=False)

    assert 'name="on_x"' not in form.render(Context({"jam": room.jam}))
    with pytest.raises(ValidationError, match="This jam runs without X"):
        launch_on_x(room, django_capture_on_commit_callbacks)
    assert not Poll.objects.exists()
    assert x_server.requests_to("/2/tweets", "POST") == []


def test_a_scheduled_x_poll_opening_after_x_was_turned_off_says_so(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room = PollRoom()
    link_x(x_server, room.host)
    poll = poll_add(
        jam=room.jam,
        user=room.host,
        text="Tabs or spaces?",
        options=["Tabs", "Spaces"],
        open_minutes=5,
        offset_minutes=0,
        on_x=True,
    )
    JamNetwork.objects.create(jam=room.jam, network="x", enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        poll_open(poll=poll)

    poll.refresh_from_db()
    assert poll.x_state == XPollState.FAILED
    assert poll.x_error == "The jam ran without X when the poll opened."
    assert poll.x_post is not None and on_x(poll.x_post).status == "local"
    assert x_server.requests_to("/2/tweets", "POST") == []
