"""Two accounts deleted at the same moment, on PostgreSQL with real threads: each one's
posts are in the jam where the other voted and flagged, so each deletion changes both
jams. Neither waits for the other in a circle (a deadlock PostgreSQL would end by failing
one of them)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from jamhost.accounts.services import AccountDeleted, account_delete
from jamhost.audience.flags import flag_add
from jamhost.audience.votes import vote_add
from jamhost.posts.models import Post
from jamhost.posts.services import post_compose
from tests.concurrency import race
from tests.factories import UserFactory, live_jam

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_deleting_two_accounts_that_cross_jams_at_once_deletes_both(settings: Any) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    first, second = live_jam(), live_jam()  # first has the lower id
    ada, bob, voter = UserFactory(), UserFactory(), UserFactory()
    # Many posts each, so each deletion holds its own jam's row while the other starts.
    for n in range(25):
        post_compose(jam=first, user=ada, body=f"Ada asks, number {n}?")
        post_compose(jam=second, user=bob, body=f"Bob asks, number {n}?")
    for jam, user in ((first, bob), (second, ada)):
        question = Post.objects.filter(jam=jam, body__endswith="?").last()
        assert question is not None
        vote_add(post_id=question.pk, user=user)
        flag_add(post_id=question.pk, user=user, reason="spam")
        vote_add(post_id=question.pk, user=voter)

    results = race(
        lambda: account_delete(user=ada, password="correct-horse-battery"),
        lambda: account_delete(user=bob, password="correct-horse-battery"),
    )

    assert results == [AccountDeleted(25, 0), AccountDeleted(25, 0)], results
    assert not get_user_model().objects.filter(pk__in=[ada.pk, bob.pk]).exists()
    for jam in (first, second):
        question = Post.objects.filter(jam=jam, body__endswith="?").last()
        assert question is not None and (question.upvotes, question.flags) == (1, 0)
