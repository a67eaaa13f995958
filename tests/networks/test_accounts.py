from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from jamhost.networks.accounts import XAccountRevoked, x_access_token
from jamhost.networks.crypto import token_decrypt
from jamhost.networks.models import OAuthState, XAccount
from tests.factories import UserFactory
from tests.networks.conftest import link_x

pytestmark = pytest.mark.django_db


def sign_in_with_x(client, x_server):  # type: ignore[no-untyped-def]
    """Connect X as a browser would: jamhost -> X's consent page -> jamhost's callback."""
    start = client.post(reverse("networks:connect"))
    assert start.status_code == 302
    consent = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert consent.status_code == 302, consent.text
    back = urlsplit(consent.headers["location"])
    assert back.path == reverse("networks:callback")
    return start["Location"], client.get(f"{back.path}?{back.query}", follow=True)


def test_sign_in_with_x_links_the_account_with_encrypted_tokens(client, x_server):  # type: ignore[no-untyped-def]
    user = UserFactory()
    uid = x_server.user_add("ada_x", "Ada Lovelace")
    client.force_login(user)

    consent_url, page = sign_in_with_x(client, x_server)

    query = parse_qs(urlsplit(consent_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert set(query["scope"][0].split()) == {
        "tweet.read",
        "tweet.write",
        "users.read",
        "offline.access",
    }
    account = XAccount.objects.get(user=user)
    assert (account.x_user_id, account.username, account.name) == (uid, "ada_x", "Ada Lovelace")
    assert account.avatar_url.startswith("https://pbs.twimg.com/")
    # Encrypted at rest, and the stored token is the one X issued and accepts.
    access = token_decrypt(account.access_token)
    assert access not in account.access_token
    assert x_server.access[access][0] == uid
    assert not OAuthState.objects.exists()  # the state and verifier were used once
    assert "Connected as" in page.content.decode()
    assert "@ada_x" in page.content.decode()


def test_callback_with_unknown_state_or_wrong_user_is_refused(client, x_server):  # type: ignore[no-untyped-def]
    alice, mallory = UserFactory(), UserFactory()
    x_server.user_add("alice_x")
    client.force_login(alice)
    start = client.post(reverse("networks:connect"))
    consent = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(consent.headers["location"])

    client.force_login(mallory)
    page = client.get(f"{callback.path}?{callback.query}", follow=True)
    assert "not valid any more" in page.content.decode()
    assert not XAccount.objects.exists()

    page = client.get(reverse("networks:callback") + "?state=forged&code=x", follow=True)
    assert page.status_code == 200
    assert "not valid any more" in page.content.decode()


def test_wrong_code_verifier_is_refused_by_x(client, x_server):  # type: ignore[no-untyped-def]
    user = UserFactory()
    x_server.user_add("eve_x")
    client.force_login(user)
    start = client.post(reverse("networks:connect"))
    consent = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(consent.headers["location"])
    # Someone swapped the verifier kept for this state: X's PKCE check must fail.
    from jamhost.networks.crypto import token_encrypt

    OAuthState.objects.update(code_verifier=token_encrypt("x" * 64))
    page = client.get(f"{callback.path}?{callback.query}", follow=True)
    assert "X did not complete the sign-in" in page.content.decode()
    assert not XAccount.objects.exists()


def test_expired_access_token_is_refreshed_and_new_refresh_token_stored(x_server):  # type: ignore[no-untyped-def]
    user = UserFactory()
    account = link_x(x_server, user)
    old_refresh = token_decrypt(account.refresh_token)
    XAccount.objects.filter(pk=account.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    x_server.tokens_expire(account.x_user_id)

    _, access = x_access_token(user_id=user.pk)

    account.refresh_from_db()
    assert x_server.access[access][0] == account.x_user_id
    assert account.expires_at > timezone.now() + timedelta(hours=1)
    new_refresh = token_decrypt(account.refresh_token)
    assert new_refresh != old_refresh and new_refresh in x_server.refresh
    assert old_refresh not in x_server.refresh  # X rotated it: the old one is spent
    # A token that is still fresh is used as is, without another refresh.
    calls = len(x_server.requests_to("/2/oauth2/token"))
    assert x_access_token(user_id=user.pk)[1] == access
    assert len(x_server.requests_to("/2/oauth2/token")) == calls


def test_revoked_grant_marks_the_account_and_the_page_says_reconnect(client, x_server):  # type: ignore[no-untyped-def]
    user = UserFactory()
    account = link_x(x_server, user)
    XAccount.objects.filter(pk=account.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    x_server.tokens_revoke(account.x_user_id)

    with pytest.raises(XAccountRevoked):
        x_access_token(user_id=user.pk)
    account.refresh_from_db()
    assert account.is_revoked
    assert "invalid_request" in account.revoked_reason

    client.force_login(user)
    page = client.get(reverse("networks:account")).content.decode()
    assert "Reconnect X" in page
    # Reconnecting clears the revoked state.
    x_server.consenting_user = account.x_user_id
    sign_in_with_x(client, x_server)
    account.refresh_from_db()
    assert not account.is_revoked
    assert x_access_token(user_id=user.pk)[1]


def test_disconnect_forgets_the_tokens(client, x_server):  # type: ignore[no-untyped-def]
    user = UserFactory()
    link_x(x_server, user)
    client.force_login(user)
    page = client.post(reverse("networks:disconnect"), follow=True).content.decode()
    assert not XAccount.objects.filter(user=user).exists()
    assert "Connect X" in page


def test_x_account_already_linked_elsewhere_is_refused(client, x_server):  # type: ignore[no-untyped-def]
    first, second = UserFactory(), UserFactory()
    account = link_x(x_server, first)
    x_server.consenting_user = account.x_user_id
    client.force_login(second)
    _, page = sign_in_with_x(client, x_server)
    assert "already linked to another jamhost account" in page.content.decode()
    assert not XAccount.objects.filter(user=second).exists()


def test_without_x_credentials_the_account_page_says_so(client, settings):  # type: ignore[no-untyped-def]
    settings.X_CLIENT_ID = ""
    client.force_login(UserFactory())
    page = client.get(reverse("networks:account")).content.decode()
    assert "X is not connected on this site" in page
    answer = client.post(reverse("networks:connect"), follow=True)
    assert answer.status_code == 200
    assert "X is not connected on this site" in answer.content.decode()


def test_user_who_declines_on_x_gets_a_message(client, x_server):  # type: ignore[no-untyped-def]
    client.force_login(UserFactory())
    start = client.post(reverse("networks:connect"))
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    page = client.get(
        reverse("networks:callback") + f"?state={state}&error=access_denied", follow=True
    )
    assert page.status_code == 200
    assert "X did not connect (access_denied)" in page.content.decode()
    assert not XAccount.objects.exists()
    assert not OAuthState.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_slow_token_refresh_does_not_hold_up_posting(x_server, settings) -> None:  # type: ignore[no-untyped-def]
    """The refresh's call to X is made outside any database transaction: in the embedded
    default (SQLite, where a transaction holds the one write lock) posts are saved while
    X takes its time."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from jamhost.posts.services import post_compose
    from tests.factories import live_jam

    settings.X_TIMEOUT = 5.0
    user = UserFactory()
    account = link_x(x_server, user)
    XAccount.objects.filter(pk=account.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    x_server.fault_next("/2/oauth2/token", "slow", delay=1.5)
    jam = live_jam()

    def refresh() -> str:
        try:
            return x_access_token(user_id=user.pk)[1]
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        refreshing = pool.submit(refresh)
        deadline = time.monotonic() + 5
        while not x_server.requests_to("/2/oauth2/token") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert x_server.requests_to("/2/oauth2/token"), "the refresh never reached X"
        post = post_compose(jam=jam, user=jam.host, body="while X is slow")
        assert not refreshing.done()  # saved without waiting for X
        access = refreshing.result(timeout=10)
    assert post.pk and x_server.access[access][0] == account.x_user_id


def test_the_account_page_shows_an_x_avatar_only_from_avatar_hosts(client, x_server):  # type: ignore[no-untyped-def]
    user = UserFactory()
    x_server.user_add("ada_x", "Ada Lovelace")
    client.force_login(user)
    sign_in_with_x(client, x_server)
    account = XAccount.objects.get(user=user)
    page = client.get(reverse("networks:account")).content.decode()
    assert f'<img class="avatar" src="{account.avatar_url}"' in page
    XAccount.objects.filter(pk=account.pk).update(avatar_url="https://tracker.example/a.png")
    page = client.get(reverse("networks:account")).content.decode()
    assert "tracker.example" not in page and "Connected as" in page
