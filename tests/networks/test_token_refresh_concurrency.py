"""Token refreshes at the same moment, on PostgreSQL with real threads: X's refresh
tokens are single-use, so one caller spends it and the others get the tokens it stored;
a holder that fails hands the lease back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jamhost.networks.accounts import x_access_token
from jamhost.networks.models import XAccount
from tests.concurrency import race
from tests.factories import UserFactory
from tests.networks.conftest import link_x

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _expire(account: XAccount) -> None:
    XAccount.objects.filter(pk=account.pk).update(expires_at=timezone.now() - timedelta(seconds=5))


def test_callers_at_once_spend_the_refresh_token_once(x_server: Any) -> None:
    user = UserFactory()
    account = link_x(x_server, user)
    _expire(account)
    x_server.fault_next("/2/oauth2/token", "slow", delay=0.5)

    results = race(*[lambda: x_access_token(user_id=user.pk)[1] for _ in range(4)])

    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 1  # everyone got the one new access token
    assert len(x_server.requests_to("/2/oauth2/token")) == 1
    account.refresh_from_db()
    assert account.refreshing_until is None and not account.is_revoked
    assert x_server.access[results[0]][0] == account.x_user_id


def test_a_refresh_that_fails_hands_the_lease_back(x_server: Any) -> None:
    from jamhost.networks.x.client import XUnavailable

    user = UserFactory()
    account = link_x(x_server, user)
    _expire(account)
    x_server.fault_next("/2/oauth2/token", "503")
    with pytest.raises(XUnavailable):
        x_access_token(user_id=user.pk)
    account.refresh_from_db()
    assert account.refreshing_until is None and not account.is_revoked
    # The next call refreshes at once, with the same (unspent) refresh token.
    assert x_access_token(user_id=user.pk)[1]
    assert len(x_server.requests_to("/2/oauth2/token")) == 2
