"""Upvotes: once per person, take-back, refusals worded for people, the budget."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from jamhost.audience.models import Vote
from jamhost.audience.votes import vote_add, vote_remove
from jamhost.posts.models import Post

pytestmark = pytest.mark.django_db


def test_a_vote_counts_once_and_takes_a_new_rev(room) -> None:  # type: ignore[no-untyped-def]
    question = room.question()
    voter = room.others[0]
    post, changed = vote_add(post_id=question.pk, user=voter)
    assert changed and post.upvotes == 1 and post.rev > question.rev
    again, changed_again = vote_add(post_id=question.pk, user=voter)
    assert not changed_again and again.upvotes == 1
    vote_add(post_id=question.pk, user=room.others[1])
    assert Post.objects.get(pk=question.pk).upvotes == 2
    assert Vote.objects.filter(post=question).count() == 2


def test_a_vote_can_be_taken_back_once(room) -> None:  # type: ignore[no-untyped-def]
    question = room.question()
    voter = room.others[0]
    vote_add(post_id=question.pk, user=voter)
    post, changed = vote_remove(post_id=question.pk, user=voter)
    assert changed and post.upvotes == 0
    _, changed = vote_remove(post_id=question.pk, user=voter)
    assert not changed
    assert Post.objects.get(pk=question.pk).upvotes == 0


def test_only_audience_questions_can_be_upvoted(room) -> None:  # type: ignore[no-untyped-def]
    answer = room.answer("Panelists ask too?")  # a panelist's "?" is not an audience question
    statement = room.question("No question here.")
    for post in (answer, statement):
        with pytest.raises(ValidationError, match="Only audience questions"):
            vote_add(post_id=post.pk, user=room.others[0])
    assert Post.objects.get(pk=answer.pk).upvotes == 0


def test_refusals_own_question_anonymous_hidden_other_jam(room) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser

    from jamhost.posts.post_moderation import post_hide
    from tests.audience.conftest import Room

    question = room.question()
    with pytest.raises(ValidationError, match="your own question"):
        vote_add(post_id=question.pk, user=room.asker)
    with pytest.raises(PermissionDenied, match="Log in"):
        vote_add(post_id=question.pk, user=AnonymousUser())
    other = Room()
    with pytest.raises(ValidationError, match="another jam"):
        vote_add(post_id=question.pk, user=room.others[0], jam_id=other.jam.pk)
    with pytest.raises(ValidationError, match="There is no post"):
        vote_add(post_id=10**9, user=room.others[0])
    post_hide(jam=room.jam, actor=room.moderator, post_id=question.pk)
    with pytest.raises(ValidationError, match="not shown"):
        vote_add(post_id=question.pk, user=room.others[0])


def test_votes_close_when_the_jam_ends(room) -> None:  # type: ignore[no-untyped-def]
    from jamhost.jams.lifecycle import jam_end

    question = room.question()
    jam_end(jam=room.jam)
    with pytest.raises(ValidationError, match="has ended"):
        vote_add(post_id=question.pk, user=room.others[0])


@override_settings(AUDIENCE_VOTES_PER_MINUTE=3)
def test_a_flood_of_votes_is_refused_with_when_to_try_again(room) -> None:  # type: ignore[no-untyped-def]
    question = room.question()
    voter = room.others[0]
    vote_add(post_id=question.pk, user=voter)
    vote_remove(post_id=question.pk, user=voter)
    vote_add(post_id=question.pk, user=voter)
    with pytest.raises(ValidationError, match=r"Try again in \d+ s") as refused:
        vote_remove(post_id=question.pk, user=voter)
    assert refused.value.code == "throttled"
    # Others keep their own budget.
    assert vote_add(post_id=question.pk, user=room.others[1])[1]
    assert Post.objects.get(pk=question.pk).upvotes == 2


@override_settings(AUDIENCE_VOTES_PER_MINUTE=2)
def test_the_vote_budget_is_counted_by_the_shared_limiter(room, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Votes are limited by jamhost.ratelimit's counters in the cache (Redis in
    production, shared by every web process): clearing the cache gives the budget back,
    and a vote that fails gives back its count."""
    from django.core.cache import cache
    from django.db import DatabaseError

    from jamhost.audience import votes

    question = room.question()
    voter = room.others[0]
    vote_add(post_id=question.pk, user=voter)
    vote_remove(post_id=question.pk, user=voter)
    with pytest.raises(ValidationError, match=r"a lot of votes at once \(2 per 60 s\)") as refused:
        vote_add(post_id=question.pk, user=voter)
    assert refused.value.code == "throttled"
    assert not Vote.objects.filter(post=question, user=voter).exists()
    cache.clear()  # the budget lives in the limiter's cache, nowhere else
    vote_add(post_id=question.pk, user=voter)

    def broken(post: Post) -> Post:
        raise DatabaseError("the database went away")

    monkeypatch.setattr(votes, "_recount", broken)
    with pytest.raises(DatabaseError):
        vote_remove(post_id=question.pk, user=voter)  # rolled back: not counted
    monkeypatch.undo()
    assert Vote.objects.filter(post=question, user=voter).exists()
    assert vote_remove(post_id=question.pk, user=voter)[1]  # the budget's 2nd
    with pytest.raises(ValidationError, match=r"Try again in \d+ s"):
        vote_add(post_id=question.pk, user=voter)
