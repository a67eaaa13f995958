"""Linking X accounts: sign in with X (OAuth 2.0 + PKCE), tokens kept encrypted, refreshed
without the user doing anything, and a clear "reconnect" state when X revoked them."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from jamhost.networks.crypto import TokenUnreadable, token_decrypt, token_encrypt
from jamhost.networks.models import OAuthState, XAccount
from jamhost.networks.x import client as x
from jamhost.networks.x import oauth

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)
REFRESH_MARGIN = timedelta(minutes=2)


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
    within two minutes (the new refresh token is stored). Refreshes are serialised on the
    account row: X's refresh tokens are single-use, so two workers must not both spend one.

    Raises XAccountRevoked (user must reconnect) or XUnavailable (try later)."""
    dead: tuple[XAccount, str] | None = None
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
            access = refresh = ""
            dead = (account, "stored tokens cannot be read (the token key changed)")
        if dead is None and account.expires_at > timezone.now() + REFRESH_MARGIN:
            return account, access
        if dead is None and not refresh:
            dead = (account, "the access token expired and there is no refresh token")
        if dead is None:
            try:
                token = oauth.token_refresh(refresh_token=refresh)
            except x.XUnauthorized as exc:
                dead = (account, exc.reason)
            else:
                account.access_token = token_encrypt(token["access_token"])
                if token.get("refresh_token"):
                    account.refresh_token = token_encrypt(token["refresh_token"])
                account.expires_at = _expires_at(token)
                account.save(
                    update_fields=["access_token", "refresh_token", "expires_at", "updated_at"]
                )
                return account, str(token["access_token"])
    # Recorded after the block: an exception raised inside it would roll the mark back.
    _revoke(*dead)
    raise XAccountRevoked(dead[1])


def x_account_mark_revoked(*, account: XAccount, reason: str) -> None:
    """X answered 401 to a fresh token: the grant is gone."""
    _revoke(account, reason)
