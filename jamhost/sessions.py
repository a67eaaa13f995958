"""Django's database sessions and its signed-in user, each read with one prepared query.

Every signed-in request reads its session and then its user: two ORM reads whose
compiling cost more CPU than the rest of a compose POST's reads together. These are the
same reads, compiled once (jamhost.prepared): `SessionStore` is Django's database store
(the same table, the same expiry rule, the same decoding), and `AuthenticationMiddleware`
is Django's, whose `request.user` is what `django.contrib.auth.get_user` gives, reading
the user with a prepared query when the session was signed in by ModelBackend (every
session here: the project's only backend), and by Django's own code otherwise.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from jamhost.prepared import Prepared, integer, moment, text

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

_SESSION: Prepared[Session] = Prepared(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now)[:1],
    text(0),
    moment(1),
)


class SessionStore(db.SessionStore):
    """Django's database session store; the session's row read by a prepared query."""

    def _get_session_from_db(self) -> Any:
        if not self.session_key:  # Django's lookup finds nothing for an empty key either
            self._session_key = None
            return None
        found = _SESSION.first(self.session_key, timezone.now())
        if found is None:
            self._session_key = None
        return found


_USER: Prepared[Any] = Prepared(
    lambda pk: get_user_model()._default_manager.filter(pk=pk)[:1], integer(0)
)


def session_user(request: HttpRequest) -> Any:
    """django.contrib.auth.get_user(request), ModelBackend's read of the user prepared."""
    try:
        user_id = auth._get_user_session_key(request)  # type: ignore[attr-defined]
        backend_path = request.session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path != MODEL_BACKEND or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return auth.get_user(request)
    user = _USER.first(user_id)
    # ModelBackend.user_can_authenticate: inactive users are not signed in.
    if user is None or not getattr(user, "is_active", True):
        return AnonymousUser()
    # The session's hash of the password, checked as Django checks it (a password change
    # signs out every other session).
    session_hash = request.session.get(HASH_SESSION_KEY)
    session_auth_hash = user.get_session_auth_hash()
    if session_hash and constant_time_compare(session_hash, session_auth_hash):
        return user
    if session_hash and any(
        constant_time_compare(session_hash, fallback)
        for fallback in user.get_session_auth_fallback_hash()
    ):
        request.session.cycle_key()
        request.session[HASH_SESSION_KEY] = session_auth_hash
        return user
    request.session.flush()
    return AnonymousUser()


def _cached_user(request: HttpRequest) -> Any:
    if not hasattr(request, "_cached_user"):
        request._cached_user = session_user(request)  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined]


class AuthenticationMiddleware(DjangoAuthentication):
    """Django's AuthenticationMiddleware, `request.user` read by `session_user`."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _cached_user(request))  # type: ignore[assignment]
