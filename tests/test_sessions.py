"""jamhost.sessions: the session and its user read by prepared queries, with everything
Django's database sessions and get_user decide kept (expiry, inactive users, a password
change signing other sessions out, backends other than ModelBackend)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from jamhost.sessions import SessionStore
from tests.factories import UserFactory, live_jam

pytestmark = pytest.mark.django_db


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _who(client: Client, slug: str) -> str:
    """The room shows the compose box only to someone signed in."""
    page = client.get(f"/jams/{slug}/live/").content.decode()
    return "signed in" if 'name="csrfmiddlewaretoken"' in page and "compose" in page else "anon"


def test_a_signed_in_session_reads_its_session_and_user_once_each(
    django_assert_num_queries: Any,
) -> None:
    user = UserFactory()
    client = _signed_in(user)
    store = SessionStore(client.session.session_key)
    with django_assert_num_queries(1):
        assert store[SESSION_KEY] == str(user.pk)
    jam = live_jam()
    assert _who(client, jam.slug) == "signed in"
    assert _who(Client(), jam.slug) == "anon"


def test_an_expired_or_unknown_session_is_empty() -> None:
    user = UserFactory()
    client = _signed_in(user)
    key = client.session.session_key
    assert SessionStore(key).load()
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None  # as Django's store: a new key on the next save
    assert SessionStore("no-such-session-key-at-all").load() == {}
    assert SessionStore(None).load() == {}


def test_a_password_change_signs_other_sessions_out() -> None:
    jam = live_jam()
    user = UserFactory()
    client = _signed_in(user)
    assert _who(client, jam.slug) == "signed in"
    user.set_password("another-horse-battery")
    user.save()
    assert _who(client, jam.slug) == "anon"
    assert not Session.objects.filter(session_key=client.session.session_key).exists()


def test_an_inactive_or_deleted_user_is_anonymous() -> None:
    jam = live_jam()
    user = UserFactory()
    client = _signed_in(user)
    user.is_active = False
    user.save()
    assert _who(client, jam.slug) == "anon"
    other = UserFactory()
    client = _signed_in(other)
    other.delete()
    assert _who(client, jam.slug) == "anon"


def test_a_session_without_its_hash_is_flushed() -> None:
    jam = live_jam()
    client = _signed_in(UserFactory())
    session = client.session
    del session[HASH_SESSION_KEY]
    session.save()
    assert _who(client, jam.slug) == "anon"


def test_a_session_of_another_backend_goes_through_djangos_get_user() -> None:
    jam = live_jam()
    client = _signed_in(UserFactory())
    session = client.session
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.RemoteUserBackend"
    session.save()
    # Not among AUTHENTICATION_BACKENDS: Django's get_user answers anonymous.
    assert _who(client, jam.slug) == "anon"
