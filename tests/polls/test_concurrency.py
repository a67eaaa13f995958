"""Votes at the same moment, on PostgreSQL with real threads: one vote per person
whatever they send, every distinct vote counted, counts exact, and a poll closing while
votes arrive counts exactly the votes that came before it. Two sweeps reading an ended X
poll at once read it once, whether its claim is new or a lease taken over."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from jamhost.networks.usage import jam_cost
from jamhost.polls.models import Poll, PollOption, PollState, PollVote, XPollState
from jamhost.polls.services import poll_add, poll_close, poll_delete, poll_vote
from jamhost.polls.sweep import polls_sweep
from jamhost.posts.models import AuditEntry, ModerationAction
from tests.concurrency import race
from tests.factories import UserFactory
from tests.polls.conftest import PollRoom, closed_x_poll, die_after_claiming, reads_on_x

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def counts(poll: Poll) -> list[int]:
    return list(
        PollOption.objects.filter(poll=poll).order_by("position").values_list("votes", flat=True)
    )


def test_one_person_voting_many_times_at_once_has_one_vote() -> None:
    room = PollRoom()
    poll = room.launch()
    voter = room.voters[0]
    results = race(
        *[lambda n=n: poll_vote(poll_id=poll.pk, user=voter, option=n % 3 + 1) for n in range(8)]
    )
    assert all(isinstance(r, tuple) for r in results), results
    assert PollVote.objects.filter(poll=poll).count() == 1
    assert sum(counts(poll)) == 1 == Poll.objects.get(pk=poll.pk).votes
    chosen = PollVote.objects.get(poll=poll).option.position
    assert counts(poll)[chosen - 1] == 1


def test_many_people_voting_at_once_are_all_counted_exactly() -> None:
    room = PollRoom()
    poll = room.launch()
    voters = [UserFactory() for _ in range(12)]
    results = race(
        *[
            lambda u=u, n=n: poll_vote(poll_id=poll.pk, user=u, option=n % 3 + 1)
            for n, u in enumerate(voters)
        ]
    )
    assert all(isinstance(r, tuple) and r[1] for r in results), results
    assert counts(poll) == [4, 4, 4]
    fresh = Poll.objects.get(pk=poll.pk)
    assert fresh.votes == 12 == PollVote.objects.filter(poll=poll).count()
    room.jam.refresh_from_db()
    assert fresh.rev == room.jam.rev  # each vote took its own rev; the last is the newest


def test_votes_and_changes_at_once_leave_true_counts() -> None:
    room = PollRoom()
    poll = room.launch()
    movers, newcomers = [UserFactory() for _ in range(5)], [UserFactory() for _ in range(5)]
    for user in movers:
        poll_vote(poll_id=poll.pk, user=user, option=1)
    calls = [lambda u=u: poll_vote(poll_id=poll.pk, user=u, option=2) for u in movers]
    calls += [lambda u=u: poll_vote(poll_id=poll.pk, user=u, option=3) for u in newcomers]
    results = race(*calls)
    assert all(isinstance(r, tuple) for r in results), results
    assert counts(poll) == [0, 5, 5]


def test_a_poll_closing_while_votes_arrive_counts_exactly_those_before_it() -> None:
    room = PollRoom()
    poll = room.launch()
    voters = [UserFactory() for _ in range(8)]
    calls = [lambda u=u: poll_vote(poll_id=poll.pk, user=u, option=1) for u in voters]
    calls.append(lambda: poll_close(poll=poll))
    results = race(*calls)
    counted = sum(1 for r in results[:-1] if isinstance(r, tuple) and r[1])
    refused = [r for r in results[:-1] if isinstance(r, ValidationError)]
    assert counted + len(refused) == 8, results
    assert all("closed" in " ".join(r.messages) for r in refused)
    fresh = Poll.objects.get(pk=poll.pk)
    assert fresh.state == PollState.CLOSED
    assert counts(poll) == [counted, 0, 0] and fresh.votes == counted
    assert PollVote.objects.filter(poll=poll).count() == counted


@pytest.mark.parametrize("claimed_before", [False, True])
def test_two_sweeps_at_once_read_an_x_poll_once(
    claimed_before: bool, x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room = PollRoom()
    poll, due = closed_x_poll(room, x_server, django_capture_on_commit_callbacks)
    now = due
    if claimed_before:  # a worker died mid-read; both sweeps find its lease run out
        die_after_claiming(poll, due)
        now = due + timedelta(minutes=10)
    reads_before = jam_cost(jam_id=room.jam.pk).reads
    # X answers slowly, so the second sweep arrives while the first is still reading.
    x_server.fault_next("/2/tweets", "slow", delay=0.5)
    results = race(*[lambda: polls_sweep(now=now) for _ in range(3)])
    read = [r.read_on_x for r in results if not isinstance(r, Exception)]
    assert len(read) == 3, results
    assert sorted(read) == [[], [], [poll.pk]]
    assert reads_on_x(x_server) == 1
    fresh = Poll.objects.get(pk=poll.pk)
    assert fresh.x_state == XPollState.READ and fresh.x_reads == 1
    assert [o["votes"] for o in fresh.x_results["options"]] == [3, 2, 0]
    assert jam_cost(jam_id=room.jam.pk).reads == reads_before + 1


def test_a_poll_taken_off_while_the_sweep_opens_it_is_one_or_the_other() -> None:
    room = PollRoom()
    polls = [
        poll_add(
            jam=room.jam,
            user=room.host,
            text=f"Poll {n}?",
            options=["A", "B"],
            open_minutes=5,
            offset_minutes=0,
        )
        for n in range(3)
    ]
    calls = [lambda p=p: poll_delete(poll=p, user=room.moderator) for p in polls]
    calls.append(lambda: polls_sweep())
    results = race(*calls)
    assert not isinstance(results[-1], Exception), results
    opened = set(results[-1].opened)
    for poll, result in zip(polls, results[:-1], strict=True):
        if poll.pk in opened:  # the sweep was first: the poll stays, the removal refused
            assert isinstance(result, ValidationError), result
            assert Poll.objects.get(pk=poll.pk).state == PollState.OPEN
        else:
            assert result is None, result
            assert not Poll.objects.filter(pk=poll.pk).exists()
    removals = AuditEntry.objects.filter(jam=room.jam, action=ModerationAction.POLL_REMOVE)
    assert removals.count() == 3 - len(opened)
