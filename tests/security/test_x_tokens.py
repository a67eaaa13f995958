"""X tokens: encrypted at rest and never logged — through linking (OAuth2 PKCE callback),
refresh with rotation, publishing, a failing publish and a revoked grant."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from jamhost.networks.accounts import XAccountRevoked, x_access_token
from jamhost.networks.crypto import token_decrypt
from jamhost.networks.models import XAccount
from jamhost.networks.publishing import post_publish
from jamhost.posts.services import post_compose
from tests.factories import UserFactory, live_jam
from tests.networks.conftest import x_server  # noqa: F401 - the X-compatible server fixture
from tests.networks.test_accounts import sign_in_with_x

pytestmark = pytest.mark.django_db


def _tokens_of(user: Any, x_server: Any) -> set[str]:  # noqa: F811
    """The plain tokens jamhost holds for the user now, and what X has issued."""
    account = XAccount.objects.get(user=user)
    held = {token_decrypt(account.access_token), token_decrypt(account.refresh_token)}
    return (held | set(x_server.access) | set(x_server.refresh)) - {""}


def test_tokens_are_encrypted_at_rest_and_never_logged(
    client: Any,
    x_server: Any,  # noqa: F811
    caplog: Any,
) -> None:
    caplog.set_level(logging.INFO)  # production's level for every library
    caplog.set_level(logging.DEBUG, logger="jamhost")  # and everything of ours
    user = UserFactory()
    x_server.user_add("ada_x", "Ada")
    client.force_login(user)
    sign_in_with_x(client, x_server)
    issued = _tokens_of(user, x_server)

    # Refresh (X rotates the refresh token), publish, a failing publish, a revoked grant.
    XAccount.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=5))
    x_server.tokens_expire(XAccount.objects.get(user=user).x_user_id)
    x_access_token(user_id=user.pk)
    issued |= _tokens_of(user, x_server)
    jam = live_jam()
    post = post_compose(jam=jam, user=user, body="published with a token")
    x_server.fault_next("/2/tweets", "500")
    failing = post_compose(jam=jam, user=user, body="X fails this one")
    post_publish(post_id=failing.pk)
    issued |= _tokens_of(user, x_server)
    account = XAccount.objects.get(user=user)
    XAccount.objects.filter(pk=account.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    x_server.tokens_revoke(account.x_user_id)
    with pytest.raises(XAccountRevoked):
        x_access_token(user_id=user.pk)

    assert len(issued) >= 4 and post.pk
    logged = caplog.text
    assert caplog.records  # the flow did log
    for token in issued:
        assert token not in logged
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM networks_xaccount")
        stored = " ".join(value or "" for row in cursor.fetchall() for value in row)
    assert stored and not any(token in stored for token in issued)
