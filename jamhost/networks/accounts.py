"""Linking X accounts: sign in with X (OAuth 2.0 + PKCE), tokens kept encrypted, refreshed
without the user doing anything, and a clear "reconnect" state when X revoked them."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from jamhost.networks.crypto import TokenUnreadable, token_decrypt, token_encrypt, tokens_store
from jamhost.networks.models import OAuthState, XAccount
from jamhost.networks.x import client as x
from jamhost.networks.x import oauth

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)
REFRESH_MARGIN = timedelta(minutes=2)
LEASE_POLL = 0.1  # seconds between looks while another process refreshes


class XAccountRevoked(x.XError):
    """The user's X grant no longer works; they must connect X again."""


def x_configured() -> bool:
    return bool(settings.X_CLIENT_ID)


def x_connect_start(*, user: Any, next_url: str = "") -> str:
    """Begin "Connect X": keep state and PKCE verifier here, return X's consent URL."""
    if not x_configured():
        raise ValidationError("X is not connected on this site (no X client id is configured).")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        next_url = ""
    url, state, verifier = oauth.authorization_start()
    with transaction.atomic():
        OAuthState.objects.filter(
            created_at__lt=timezone.now() - STATE_LIFETIME
        ).delete()  # abandoned attempts
        OAuthState.objects.create(
            state=state, user=user, code_verifier=token_encrypt(verifier), next_url=next_url[:300]
        )
    return url


def _expires_at(token: dict[str, Any]) -> Any:
    try:
        seconds = int(token.get("expires_in") or 7200)
    except (TypeError, ValueError):
        seconds = 7200
    return timezone.now() + timedelta(seconds=max(seconds, 60))


def _scope_text(scope: Any) -> str:
    # oauthlib hands the granted scope back as a list; X sends it space-separated.
    return " ".join(scope) if isinstance(scope, list) else str(scope or "")


def x_account_link(*, user: Any, state: str, code: str, error: str = "") -> XAccount:
    """Finish "Connect X" from the callback. The state must be one this user started in
    the last ten minutes; it is used once. Raises ValidationError with what to do next."""
    pending = OAuthState.objects.filter(state=state or "-", user=user).first()
    if pending is None or pending.created_at < timezone.now() - STATE_LIFETIME:
        raise ValidationError(
            "This X sign-in link is not valid any more (it expired or was used). "
            "Choose “Connect X” again."
        )
    verifier = token_decrypt(pending.code_verifier)
    pending.delete()
    if error:
        raise ValidationError(f"X did not connect ({error[:80]}). Choose “Connect X” to try again.")
    try:
        token = oauth.token_exchange(code=code, code_verifier=verifier)
        profile = x.user_me(token=token["access_token"])
    except x.XError as exc:
        raise ValidationError(
            f"X did not complete the sign-in: {exc.reason}. Choose “Connect X” to try again."
        ) from exc
    x_user_id = str(profile["id"])
    with transaction.atomic():
        taken = XAccount.objects.filter(x_user_id=x_user_id).exclude(user=user).first()
        if taken is not None:
            raise ValidationError(
                f"@{profile['username']} is already linked to another jamhost account. "
                "Disconnect it there first."
            )
        account, _ = XAccount.objects.update_or_create(
            user=user,
            defaults={
                "x_user_id": x_user_id,
                "username": str(profile["username"])[:50],
                "name": str(profile.get("name") or "")[:120],
                "avatar_url": str(profile.get("profile_image_url") or "")[:500],
                "access_token": token_encrypt(token["access_token"]),
                "refresh_token": token_encrypt(token.get("refresh_token") or ""),
                "expires_at": _expires_at(token),
                "scope": _scope_text(token.get("scope"))[:200],
                "revoked_at": None,
                "revoked_reason": "",
            },
        )
    log.info("user %s linked X account @%s", user.pk, account.username)
    return account


def x_account_disconnect(*, user: Any) -> None:
    """Forget the user's X tokens. Their posts stay; new ones are local only."""
    with transaction.atomic():
        XAccount.objects.filter(user=user).delete()


def _revoke(account: XAccount, reason: str) -> None:
    XAccount.objects.filter(pk=account.pk).update(revoked_at=timezone.now(), revoked_reason=reason)
    log.warning("X account @%s needs reconnecting: %s", account.username, reason)


def x_access_token(*, user_id: int) -> tuple[XAccount, str]:
    """A working access token for the user's X account, refreshed first when it expires
    within two minutes (the new refresh token is stored).

    X's refresh tokens are single-use, so one process at a time refreshes: it takes the
    account's refresh lease (`refreshing_until`) in a short transaction, calls X outside
    any transaction — in the embedded default a transaction holds SQLite's one write lock,
    and posting would wait for X — and stores the new tokens in another. A caller that
    finds the lease taken waits for the new tokens. A lease whose holder died expires
    after twice X_TIMEOUT.

    Raises XAccountRevoked (user must reconnect) or XUnavailable (try later)."""
    lease = timedelta(seconds=2 * settings.X_TIMEOUT)
    give_up = time.monotonic() + lease.total_seconds() + 1
    while True:
        account, access, refresh, dead = _token_or_lease(user_id, lease)
        if dead is not None:
            _revoke(account, dead)
            raise XAccountRevoked(dead)
        if access is not None:
            return account, access
        if refresh is not None:
            return account, _refresh(account, refresh)
        if time.monotonic() > give_up:
            raise x.XUnavailable("the X sign-in is being renewed; try again in a moment")
        time.sleep(LEASE_POLL)


def _token_or_lease(
    user_id: int, lease: timedelta
) -> tuple[XAccount, str | None, str | None, str | None]:
    """(account, access token if still good, refresh token if this caller took the
    lease, reason if the grant is dead); all None but the account: another holds it."""
    now = timezone.now()
    with transaction.atomic():
        account = XAccount.objects.select_for_update().filter(user_id=user_id).first()
        if account is None:
            raise XAccountRevoked("no X account is connected")
        if account.is_revoked:
            raise XAccountRevoked(f"X access was revoked: {account.revoked_reason}")
        try:
            access = token_decrypt(account.access_token)
            refresh = token_decrypt(account.refresh_token)
        except TokenUnreadable:
            return account, None, None, "stored tokens cannot be read (the token key changed)"
        if account.expires_at > now + REFRESH_MARGIN:
            return account, access, None, None
        if not refresh:
            return account, None, None, "the access token expired and there is no refresh token"
        if account.refreshing_until is not None and account.refreshing_until > now:
            return account, None, None, None
        account.refreshing_until = now + lease
        account.save(update_fields=["refreshing_until"])
    return account, None, refresh, None


def _refresh(account: XAccount, refresh: str) -> str:
    """Spend the refresh token (this caller holds the lease) and store what X gives."""
    try:
        token = oauth.token_refresh(refresh_token=refresh)
    except BaseException as exc:
        XAccount.objects.filter(pk=account.pk).update(refreshing_until=None)
        if isinstance(exc, x.XUnauthorized):
            _revoke(account, exc.reason)
            raise XAccountRevoked(exc.reason) from exc
        raise
    tokens_store(
        account,
        access_token=token["access_token"],
        refresh_token=token.get("refresh_token") or None,
        expires_at=_expires_at(token),
    )
    return str(token["access_token"])


def x_account_mark_revoked(*, account: XAccount, reason: str) -> None:
    """X answered 401 to a fresh token: the grant is gone."""
    _revoke(account, reason)
