"""Reading an X poll's results is claimed before X is called, and the claim is a lease:
a read whose worker died after claiming it (x_read_at stamped, nothing stored) is taken
again by the sweep once X_POLL_READ_LEASE_SECONDS have passed, not before, and each read
made is counted in the cost panel. Through the X-compatible test server."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from jamhost.networks.usage import jam_cost
from jamhost.polls.changes import poll_x_results_store
from jamhost.polls.models import Poll, PollState, XPollState
from jamhost.polls.sweep import polls_sweep
from jamhost.polls.x_polls import poll_x_read, polls_x_due
from tests.polls.conftest import PollRoom, closed_x_poll, die_after_claiming, reads_on_x

pytestmark = pytest.mark.django_db


def test_a_read_whose_worker_died_is_taken_again_after_the_lease(
    x_server: Any, django_capture_on_commit_callbacks: Any, caplog: Any
) -> None:
    room = PollRoom()
    poll, due = closed_x_poll(room, x_server, django_capture_on_commit_callbacks)
    reads_before = jam_cost(jam_id=room.jam.pk).reads
    die_after_claiming(poll, due)

    # Inside the lease the claim holds: nobody reads, whoever asks.
    for later in (timedelta(0), timedelta(minutes=1), timedelta(seconds=299)):
        assert polls_x_due(now=due + later) == []
        assert polls_sweep(now=due + later).read_on_x == []
    assert poll_x_read(poll_id=poll.pk, now=due + timedelta(seconds=299)) == "taken"
    assert reads_on_x(x_server) == 0
    assert Poll.objects.get(pk=poll.pk).x_state == XPollState.QUEUED

    # Past it, the next sweep takes the read over and reads once, with a log line.
    with caplog.at_level(logging.WARNING, logger="jamhost.polls.x_polls"):
        assert polls_sweep(now=due + timedelta(minutes=5)).read_on_x == [poll.pk]
    assert "did not finish in 300s; reading it again" in caplog.text
    assert polls_sweep(now=due + timedelta(minutes=20)).read_on_x == []
    assert reads_on_x(x_server) == 1

    fresh = Poll.objects.get(pk=poll.pk)
    assert fresh.x_state == XPollState.READ and fresh.state == PollState.CLOSED
    assert [o["votes"] for o in fresh.x_results["options"]] == [3, 2, 0]
    assert fresh.x_reads == 1
    assert fresh.x_read_at == due + timedelta(minutes=5)
    assert jam_cost(jam_id=room.jam.pk).reads == reads_before + 1


def test_the_lease_follows_its_setting(
    x_server: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.X_POLL_READ_LEASE_SECONDS = 60
    room = PollRoom()
    poll, due = closed_x_poll(room, x_server, django_capture_on_commit_callbacks)
    die_after_claiming(poll, due)
    assert polls_sweep(now=due + timedelta(seconds=59)).read_on_x == []
    assert polls_sweep(now=due + timedelta(seconds=60)).read_on_x == [poll.pk]
    assert reads_on_x(x_server) == 1


def test_a_stored_read_is_never_taken_again_however_old(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room = PollRoom()
    poll, due = closed_x_poll(room, x_server, django_capture_on_commit_callbacks)
    assert polls_sweep(now=due).read_on_x == [poll.pk]
    for later in (timedelta(minutes=6), timedelta(days=2)):
        assert polls_x_due(now=due + later) == []
        assert poll_x_read(poll_id=poll.pk, now=due + later) == "taken"
    assert reads_on_x(x_server) == 1
    assert Poll.objects.get(pk=poll.pk).x_reads == 1


def test_a_late_read_after_the_lease_was_taken_over_is_counted_not_stored(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # The first worker was only slow: the second read stored its results first. The
    # first one's read was billed too, so it is counted, and the stored results stay.
    room = PollRoom()
    poll, due = closed_x_poll(room, x_server, django_capture_on_commit_callbacks)
    die_after_claiming(poll, due)
    assert polls_sweep(now=due + timedelta(minutes=6)).read_on_x == [poll.pk]
    stored = Poll.objects.get(pk=poll.pk)
    late = poll_x_results_store(poll_id=poll.pk, results={"options": []}, reads=1)
    assert late.x_reads == 2 and late.x_state == XPollState.READ
    assert late.x_results == stored.x_results and late.x_read_at == stored.x_read_at
    assert late.rev > stored.rev  # the new count reaches the screens
