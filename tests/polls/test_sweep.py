"""The polls sweep opens run-sheet polls on schedule and closes them at their time, once
however often it runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jamhost.jams.lifecycle import jam_end
from jamhost.jams.models import Jam
from jamhost.polls.models import Poll, PollState
from jamhost.polls.services import poll_add
from jamhost.polls.sweep import polls_sweep
from tests.polls.conftest import PollRoom

pytestmark = pytest.mark.django_db


def test_the_sweep_opens_due_polls_once_and_closes_them_once() -> None:
    room = PollRoom()  # started five minutes ago
    due = poll_add(
        jam=room.jam,
        user=room.host,
        text="Now?",
        options=["A", "B"],
        open_minutes=3,
        offset_minutes=4,
    )
    later = poll_add(
        jam=room.jam,
        user=room.host,
        text="Later?",
        options=["A", "B"],
        open_minutes=3,
        offset_minutes=30,
    )
    now = timezone.now()
    first = polls_sweep(now=now)
    rev = Jam.objects.get(pk=room.jam.pk).rev
    second = polls_sweep(now=now)
    assert first.opened == [due.pk] and second.opened == []
    assert Jam.objects.get(pk=room.jam.pk).rev == rev  # the second sweep changed nothing
    assert Poll.objects.get(pk=later.pk).state == PollState.WAITING
    opened = Poll.objects.get(pk=due.pk)
    assert opened.state == PollState.OPEN and opened.opened_at == now

    closing = now + timedelta(minutes=3)
    assert polls_sweep(now=closing).closed == [due.pk]
    assert polls_sweep(now=closing).closed == []
    assert Poll.objects.get(pk=due.pk).state == PollState.CLOSED


def test_an_ended_jam_closes_its_open_polls_and_opens_no_more() -> None:
    room = PollRoom()
    poll = room.launch(minutes=60)
    waiting = poll_add(
        jam=room.jam,
        user=room.host,
        text="Q?",
        options=["A", "B"],
        open_minutes=3,
        offset_minutes=6,
    )
    jam_end(jam=room.jam)
    result = polls_sweep(now=timezone.now() + timedelta(minutes=2))
    assert result.closed == [poll.pk] and result.opened == []
    assert Poll.objects.get(pk=waiting.pk).state == PollState.WAITING
