"""One Bluesky renewal at a time: Bluesky's refresh tokens are single-use and a new
session from the app password is rate-limited, so two workers that find the access
token expired at once make one refreshSession call between them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jamhost.networks.crypto import token_decrypt
from jamhost.networks.links import bluesky_token
from jamhost.networks.models import LinkedAccount
from jamhost.networks.remote import RemoteUnavailable
from tests.concurrency import race
from tests.factories import UserFactory

from .conftest import link_bluesky


def _expired(bsky: Any, account: LinkedAccount) -> None:
    """The access token ran out, here and on the server."""
    bsky.tokens_expire(account.remote_id)
    LinkedAccount.objects.filter(pk=account.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )


def _token_now(account_id: int) -> Any:
    return bluesky_token(LinkedAccount.objects.get(pk=account_id))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_workers_renewing_one_session_make_one_refresh(networks: Any) -> None:
    bsky, _masto = networks
    account = link_bluesky(bsky, UserFactory(username="renewer"))
    _expired(bsky, account)
    sessions_before = len(bsky.requests_to("com.atproto.server.createSession"))
    # The refresh takes a while: the second worker comes while the first holds the lease.
    bsky.fault_next("com.atproto.server.refreshSession", "slow", delay=0.5)

    first, second = race(lambda: _token_now(account.pk), lambda: _token_now(account.pk))

    assert isinstance(first, str) and first == second, (first, second)
    assert len(bsky.requests_to("com.atproto.server.refreshSession")) == 1
    assert len(bsky.requests_to("com.atproto.server.createSession")) == sessions_before
    account.refresh_from_db()
    assert token_decrypt(account.access_token) == first
    assert account.refreshing_until is None and account.revoked_at is None


@pytest.mark.django_db
def test_a_renewal_held_by_another_is_waited_for_then_reported(networks: Any) -> None:
    bsky, _masto = networks
    account = link_bluesky(bsky, UserFactory(username="waiter"))
    _expired(bsky, account)
    # Another process took the lease and has not finished.
    LinkedAccount.objects.filter(pk=account.pk).update(
        refreshing_until=timezone.now() + timedelta(seconds=30)
    )
    with pytest.raises(RemoteUnavailable, match="being renewed"):
        _token_now(account.pk)
    assert bsky.requests_to("com.atproto.server.refreshSession") == []
    # Its lease runs out (the holder died): the next caller renews.
    LinkedAccount.objects.filter(pk=account.pk).update(
        refreshing_until=timezone.now() - timedelta(seconds=1)
    )
    assert _token_now(account.pk)
    assert len(bsky.requests_to("com.atproto.server.refreshSession")) == 1
