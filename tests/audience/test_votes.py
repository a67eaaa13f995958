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
