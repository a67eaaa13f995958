"""Linking Bluesky (handle and app password) and Mastodon (OAuth on the person's instance)
through the account page, against both test servers; unlinking."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse

from jamhost.networks.crypto import token_decrypt
from jamhost.networks.models import LinkedAccount, LinkState, MastodonApp
from tests.factories import UserFactory
from testservers.bluesky.state import APP_PASSWORD

pytestmark = pytest.mark.django_db


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_bluesky_link_from_the_account_page(networks: Any, client: Any) -> None:
    bsky, _ = networks
    did = bsky.account_add("alice.bsky.test", "Alice")
    user = UserFactory()
    client.force_login(user)
    answer = client.post(
        reverse("networks:bluesky_connect"),
        {"handle": "@alice.bsky.test", "app_password": APP_PASSWORD},
        follow=True,
    )
    assert answer.status_code == 200
    assert messages_of(answer) == ["Bluesky account @alice.bsky.test connected."]
    account = LinkedAccount.objects.get(user=user, network="bluesky")
    assert account.remote_id == did and account.handle == "alice.bsky.test"
    (issued,) = [t for t, (owner, _) in bsky.access.items() if owner == did]
    assert issued not in account.access_token and token_decrypt(account.access_token) == issued
    assert APP_PASSWORD not in account.app_password
    assert account.expires_at is not None


@pytest.mark.parametrize(
    ("handle", "password", "says"),
    [
        ("alice.bsky.test", "wrong-password-0000", "did not accept that handle and app password"),
        ("nobody.bsky.test", APP_PASSWORD, "did not accept that handle and app password"),
        ("", APP_PASSWORD, "Give your Bluesky handle"),
        ("alice.bsky.test", "", "Give an app password"),
    ],
)
def test_bluesky_link_refused_says_why(
    networks: Any, client: Any, handle: str, password: str, says: str
) -> None:
    bsky, _ = networks
    bsky.account_add("alice.bsky.test", "Alice")
    client.force_login(UserFactory())
    answer = client.post(
        reverse("networks:bluesky_connect"),
        {"handle": handle, "app_password": password},
        follow=True,
    )
    assert answer.status_code == 200
    (message,) = messages_of(answer)
    assert says in message
    assert LinkedAccount.objects.count() == 0


def _connect(client: Any, instance: str) -> Any:
    return client.post(reverse("networks:mastodon_connect"), {"instance": instance})


def test_mastodon_link_through_the_instance_consent(networks: Any, client: Any) -> None:
    _, masto = networks
    user = UserFactory()
    client.force_login(user)
    start = _connect(client, masto.base_url)
    assert start.status_code == 302
    assert start.url.startswith(f"{masto.base_url}/oauth/authorize?")
    consent = requests.get(start.url, allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    assert back.path == reverse("networks:mastodon_callback")
    done = client.get(f"{back.path}?{back.query}", follow=True)
    assert messages_of(done) == [f"Mastodon account @alice@{masto.domain} connected."]
    account = LinkedAccount.objects.get(user=user, network="mastodon")
    assert account.service == masto.base_url
    assert account.remote_id == f"{masto.base_url}/users/alice"
    token = token_decrypt(account.access_token)
    assert token in masto.tokens and token not in account.access_token
    assert MastodonApp.objects.get(service=masto.base_url).max_characters == 500

    # The same state again: used up.
    again = client.get(f"{back.path}?{back.query}", follow=True)
    assert "not valid any more" in messages_of(again)[0]
    assert LinkedAccount.objects.filter(user=user).count() == 1

    # A second link reuses the instance's registration.
    _connect(client, masto.base_url)
    assert MastodonApp.objects.count() == 1 and len(masto.apps) == 1


def test_mastodon_expired_state_and_denied_consent(networks: Any, client: Any) -> None:
    _, masto = networks
    client.force_login(UserFactory())
    start = _connect(client, masto.base_url)
    consent = requests.get(start.url, allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    LinkState.objects.update(created_at="2000-01-01T00:00:00Z")
    expired = client.get(f"{back.path}?{back.query}", follow=True)
    assert "not valid any more" in messages_of(expired)[0]
    assert LinkedAccount.objects.count() == 0

    other = UserFactory()
    start = _connect(client, masto.base_url)
    state = dict(p.split("=", 1) for p in urlsplit(start.url).query.split("&"))["state"]
    client.force_login(other)  # someone else's state
    stolen = client.get(reverse("networks:mastodon_callback"), {"state": state, "code": "x"})
    assert stolen.status_code == 302
    assert LinkedAccount.objects.count() == 0


@pytest.mark.parametrize(
    "instance",
    [
        "not a url",
        "ftp://x",
        "",
        "http://mastodon.example",
        "https://a.b/path/x",
        "https://a.b:99999",
        "https://a.b:port",
        "https://[::1",
        "https://user:pw@a.b",
    ],
)
def test_mastodon_bad_instance_says_why_never_500(
    networks: Any, client: Any, instance: str
) -> None:
    client.force_login(UserFactory())
    answer = client.post(reverse("networks:mastodon_connect"), {"instance": instance}, follow=True)
    assert answer.status_code == 200
    (message,) = messages_of(answer)
    assert "Give the instance's address" in message


def test_mastodon_instance_that_does_not_answer_says_so(networks: Any, client: Any) -> None:
    client.force_login(UserFactory())
    answer = client.post(
        reverse("networks:mastodon_connect"), {"instance": "http://127.0.0.1:9"}, follow=True
    )
    assert answer.status_code == 200
    (message,) = messages_of(answer)
    assert "did not let jamhost register" in message


def test_unlink(networks: Any, client: Any) -> None:
    bsky, _ = networks
    bsky.account_add("alice.bsky.test", "Alice")
    user, other = UserFactory(), UserFactory()
    client.force_login(user)
    client.post(
        reverse("networks:bluesky_connect"),
        {"handle": "alice.bsky.test", "app_password": APP_PASSWORD},
        follow=True,
    )
    account = LinkedAccount.objects.get(user=user)
    client.force_login(other)
    refused = client.post(reverse("networks:unlink", args=[account.pk]), follow=True)
    assert "not linked to you" in messages_of(refused)[0]
    client.force_login(user)
    done = client.post(reverse("networks:unlink", args=[account.pk]), follow=True)
    assert messages_of(done)[0].startswith("Bluesky account @alice.bsky.test unlinked.")
    assert LinkedAccount.objects.count() == 0


def test_the_account_page_shows_linked_and_revoked_accounts(networks: Any, client: Any) -> None:
    bsky, _ = networks
    bsky.account_add("alice.bsky.test", "Alice")
    user = UserFactory()
    client.force_login(user)
    client.post(
        reverse("networks:bluesky_connect"),
        {"handle": "alice.bsky.test", "app_password": APP_PASSWORD},
        follow=True,
    )
    page = client.get(reverse("networks:account")).content.decode()
    assert "@alice.bsky.test" in page and "Unlink @alice.bsky.test" in page
    assert "Connect Mastodon" in page and "Connect Bluesky" not in page
    LinkedAccount.objects.update(revoked_at="2026-01-01T00:00:00Z", revoked_reason="revoked")
    page = client.get(reverse("networks:account")).content.decode()
    assert "Bluesky no longer accepts jamhost" in page and "Connect Bluesky" in page


def test_mastodon_consent_refused_says_so(networks: Any, client: Any) -> None:
    _, masto = networks
    client.force_login(UserFactory())
    start = _connect(client, masto.base_url)
    state = dict(p.split("=", 1) for p in urlsplit(start.url).query.split("&"))["state"]
    answer = client.get(
        reverse("networks:mastodon_callback"),
        {"state": state, "error": "access_denied"},
        follow=True,
    )
    assert "did not connect (access_denied)" in messages_of(answer)[0]
    assert LinkedAccount.objects.count() == 0


@pytest.mark.parametrize("fault", ["503", "malformed", "429"])
def test_bluesky_link_when_the_server_fails_says_try_again(
    networks: Any, client: Any, fault: str
) -> None:
    bsky, _ = networks
    bsky.account_add("alice.bsky.test", "Alice")
    bsky.fault_next("com.atproto.server.createSession", fault)
    client.force_login(UserFactory())
    answer = client.post(
        reverse("networks:bluesky_connect"),
        {"handle": "alice.bsky.test", "app_password": APP_PASSWORD},
        follow=True,
    )
    assert answer.status_code == 200
    (message,) = messages_of(answer)
    assert message.startswith("Bluesky did not answer as expected") and "Try again" in message
    assert LinkedAccount.objects.count() == 0
