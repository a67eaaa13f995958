"""Poll services: who may add and launch, opening and closing, one vote per person that
may change until the poll closes, and every refusal a sentence that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from jamhost.jams.models import Jam
from jamhost.polls.models import Poll, PollOption, PollState, PollVote
from jamhost.polls.services import (
    poll_add,
    poll_close,
    poll_close_now,
    poll_delete,
    poll_launch,
    poll_vote,
)
from tests.factories import UserFactory
from tests.polls.conftest import PollRoom

pytestmark = pytest.mark.django_db


def counts(poll: Poll) -> list[int]:
    return list(
        PollOption.objects.filter(poll=poll).order_by("position").values_list("votes", flat=True)
    )


def test_launch_opens_a_poll_with_a_new_rev_and_its_options_in_order() -> None:
    room = PollRoom()
    before = room.jam.rev
    poll = room.launch()
    room.jam.refresh_from_db()
    assert poll.state == PollState.OPEN
    assert poll.rev == room.jam.rev == before + 1
    assert poll.closes_at == poll.opened_at + timedelta(minutes=5)
    assert list(poll.options.values_list("text", flat=True)) == ["Yes", "No", "Maybe"]


def test_one_vote_per_person_and_changing_it_moves_the_count() -> None:
    room = PollRoom()
    poll = room.launch()
    voter = room.voters[0]
    assert poll_vote(poll_id=poll.pk, user=voter, option=1)[1] is True
    assert counts(poll) == [1, 0, 0]
    assert poll_vote(poll_id=poll.pk, user=voter, option=1)[1] is False  # the same again
    assert poll_vote(poll_id=poll.pk, user=voter, option="3")[1] is True  # changed
    poll_vote(poll_id=poll.pk, user=room.voters[1], option=3)
    assert counts(poll) == [0, 0, 2]
    assert PollVote.objects.filter(poll=poll).count() == 2
    assert Poll.objects.get(pk=poll.pk).votes == 2


def test_a_vote_after_closing_is_refused_and_changes_nothing() -> None:
    room = PollRoom()
    poll = room.launch()
    poll_vote(poll_id=poll.pk, user=room.voters[0], option=2)
    poll_close(poll=poll)
    rev = Jam.objects.get(pk=room.jam.pk).rev
    with pytest.raises(ValidationError, match="This poll has closed"):
        poll_vote(poll_id=poll.pk, user=room.voters[0], option=1)
    with pytest.raises(ValidationError, match="This poll has closed"):
        poll_vote(poll_id=poll.pk, user=room.voters[1], option=1)
    assert counts(poll) == [0, 1, 0]
    assert Jam.objects.get(pk=room.jam.pk).rev == rev


def test_a_vote_after_the_closing_time_is_refused_before_the_sweep_closes_it() -> None:
    room = PollRoom()
    poll = room.launch(minutes=1)
    later = timezone.now() + timedelta(minutes=2)
    with pytest.raises(ValidationError, match="closed"):
        poll_vote(poll_id=poll.pk, user=room.voters[0], option=1, now=later)
    assert PollVote.objects.count() == 0


@pytest.mark.parametrize("option", [0, 4, 99, "", "two", "1; DROP TABLE", None, "9" * 40])
def test_a_vote_for_an_option_that_does_not_exist_is_refused(option: object) -> None:
    room = PollRoom()
    poll = room.launch()
    rev = Jam.objects.get(pk=room.jam.pk).rev
    with pytest.raises(
        ValidationError, match=r"This poll has no option .*pick one of its 3 options"
    ):
        poll_vote(poll_id=poll.pk, user=room.voters[0], option=option)
    assert PollVote.objects.count() == 0
    assert Jam.objects.get(pk=room.jam.pk).rev == rev


def test_voting_needs_a_signed_in_person_and_a_poll_of_this_jam() -> None:
    from django.contrib.auth.models import AnonymousUser

    room = PollRoom()
    poll = room.launch()
    with pytest.raises(PermissionDenied, match="Sign in"):
        poll_vote(poll_id=poll.pk, user=AnonymousUser(), option=1)
    other = PollRoom()
    with pytest.raises(Poll.DoesNotExist):
        poll_vote(poll_id=poll.pk, jam_id=other.jam.pk, user=room.voters[0], option=1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["Only one"], "needs 2 to 4 options; this one has 1"),
        ([f"Option {n}" for n in range(11)], "at most 4 options .*this one has 11"),
        (["Same", "same "], "Two options read the same"),
        (["x" * 26, "No"], "is 26 characters; an option has at most 25"),
        (["", "  ", "Yes"], "this one has 1"),
    ],
)
def test_a_poll_with_the_wrong_options_is_refused_and_nothing_is_stored(
    options: list[str], message: str
) -> None:
    room = PollRoom()
    rev = room.jam.rev
    with pytest.raises(ValidationError, match=message):
        poll_launch(jam=room.jam, user=room.host, text="Well?", options=options, open_minutes=5)
    with pytest.raises(ValidationError, match=message):
        poll_add(
            jam=room.jam,
            user=room.host,
            text="Well?",
            options=options,
            open_minutes=5,
            offset_minutes=10,
        )
    assert Poll.objects.count() == 0 and PollOption.objects.count() == 0
    assert Jam.objects.get(pk=room.jam.pk).rev == rev


@pytest.mark.parametrize(
    ("minutes", "message"),
    [(0, "from 1 to 10080"), (10081, "from 1 to 10080"), ("soon", "“soon” is not")],
)
def test_how_long_a_poll_is_open_is_checked(minutes: object, message: str) -> None:
    room = PollRoom()
    with pytest.raises(ValidationError, match=message):
        poll_launch(
            jam=room.jam, user=room.host, text="Q?", options=["A", "B"], open_minutes=minutes
        )
    assert Poll.objects.count() == 0


def test_only_the_host_or_a_moderator_adds_launches_and_closes_polls() -> None:
    room = PollRoom()
    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        poll_launch(jam=room.jam, user=stranger, text="Q?", options=["A", "B"], open_minutes=5)
    with pytest.raises(PermissionDenied):
        poll_add(
            jam=room.jam,
            user=stranger,
            text="Q?",
            options=["A", "B"],
            open_minutes=5,
            offset_minutes=1,
        )
    poll = poll_launch(
        jam=room.jam, user=room.moderator, text="Q?", options=["A", "B"], open_minutes=5
    )
    with pytest.raises(PermissionDenied):
        poll_close_now(poll=poll, user=stranger)
    assert poll_close_now(poll=poll, user=room.moderator).state == PollState.CLOSED


def test_a_run_sheet_poll_can_be_removed_until_it_opens() -> None:
    room = PollRoom()
    poll = poll_add(
        jam=room.jam,
        user=room.host,
        text="Q?",
        options=["A", "B"],
        open_minutes=5,
        offset_minutes=50,
    )
    assert poll.state == PollState.WAITING
    with pytest.raises(PermissionDenied):
        poll_delete(poll=poll, user=UserFactory())
    poll_delete(poll=poll, user=room.host)
    assert not Poll.objects.exists()
    opened = room.launch()
    with pytest.raises(ValidationError, match="stays in the jam's record"):
        poll_delete(poll=opened, user=room.host)


def test_a_vote_in_a_poll_not_open_yet_is_refused() -> None:
    room = PollRoom()
    poll = poll_add(
        jam=room.jam,
        user=room.host,
        text="Q?",
        options=["A", "B"],
        open_minutes=5,
        offset_minutes=50,
    )
    with pytest.raises(ValidationError, match="not open yet"):
        poll_vote(poll_id=poll.pk, user=room.voters[0], option=1)


def test_a_deleted_account_takes_its_poll_votes_with_it_and_counts_follow() -> None:
    from jamhost.accounts.services import account_delete

    room = PollRoom()
    poll = room.launch()
    leaver = UserFactory()
    leaver.set_password("correct-horse-battery")
    leaver.save()
    poll_vote(poll_id=poll.pk, user=leaver, option=1)
    poll_vote(poll_id=poll.pk, user=room.voters[0], option=1)
    rev = Jam.objects.get(pk=room.jam.pk).rev
    account_delete(user=leaver, password="correct-horse-battery")
    assert counts(poll) == [1, 0, 0]
    fresh = Poll.objects.get(pk=poll.pk)
    assert fresh.votes == 1 and fresh.rev > rev
