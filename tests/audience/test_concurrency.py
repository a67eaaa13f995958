"""Votes and flags sent at the same moment, on PostgreSQL with real threads: double
clicks count once, every distinct vote counts, the threshold fires once."""

from __future__ import annotations

import pytest

from jamhost.audience.flags import flag_add
from jamhost.audience.models import Flag, Vote
from jamhost.audience.votes import vote_add, vote_remove
from jamhost.posts.models import AuditEntry, Post, PostStatus
from tests.audience.conftest import Room
from tests.concurrency import race
from tests.factories import UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_same_vote_sent_many_times_at_once_counts_once() -> None:
    room = Room()
    question = room.question()
    voter = room.others[0]
    results = race(*[lambda: vote_add(post_id=question.pk, user=voter) for _ in range(6)])
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(1 for _, changed in results if changed) == 1
    assert Vote.objects.filter(post=question).count() == 1
    assert Post.objects.get(pk=question.pk).upvotes == 1


def test_votes_from_many_people_at_once_are_all_counted() -> None:
    room = Room()
    question = room.question()
    voters = [UserFactory() for _ in range(8)]
    results = race(*[lambda u=u: vote_add(post_id=question.pk, user=u) for u in voters])
    assert all(isinstance(r, tuple) and r[1] for r in results), results
    post = Post.objects.get(pk=question.pk)
    assert post.upvotes == 8 == Vote.objects.filter(post=question).count()
    # Each change took its own rev: the last one stored is the jam's newest.
    room.jam.refresh_from_db()
    assert post.rev == room.jam.rev


def test_votes_and_take_backs_at_once_leave_a_true_count() -> None:
    room = Room()
    question = room.question()
    stayers, leavers = [UserFactory() for _ in range(4)], [UserFactory() for _ in range(4)]
    for user in leavers:
        vote_add(post_id=question.pk, user=user)
    calls = [lambda u=u: vote_add(post_id=question.pk, user=u) for u in stayers]
    calls += [lambda u=u: vote_remove(post_id=question.pk, user=u) for u in leavers]
    results = race(*calls)
    assert all(isinstance(r, tuple) for r in results), results
    assert Post.objects.get(pk=question.pk).upvotes == 4
    assert set(Vote.objects.filter(post=question).values_list("user_id", flat=True)) == {
        u.pk for u in stayers
    }


def test_flags_at_once_count_once_each_and_the_threshold_fires_once() -> None:
    room = Room()
    room.jam.flag_threshold = 3
    room.jam.save(update_fields=["flag_threshold"])
    post = room.answer("Flag storm")
    flaggers = [UserFactory() for _ in range(6)]
    calls = [lambda u=u: flag_add(post_id=post.pk, user=u, reason="spam") for u in flaggers]
    calls += [lambda: flag_add(post_id=post.pk, user=flaggers[0], reason="abuse")] * 3
    results = race(*calls)
    assert all(isinstance(r, tuple) for r in results), results
    stored = Post.objects.get(pk=post.pk)
    assert stored.flags == 6 == Flag.objects.filter(post=post).count()
    assert stored.status == PostStatus.PENDING
    assert AuditEntry.objects.filter(post=post, action="flagged").count() == 1
