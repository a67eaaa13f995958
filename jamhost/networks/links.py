"""Linking Bluesky and Mastodon accounts, and keeping their tokens working.

Bluesky: the person gives their handle and an app password (Settings → App passwords on
Bluesky; never their main password). jamhost makes a session on BLUESKY_SERVICE and keeps
the tokens and the app password encrypted: an access token that ran out is refreshed, and
a refresh token that ran out is replaced by a new session, without asking the person.

The networks' clients (atproto, Mastodon.py: tens of MB) load on first use, not with
the web process's views.

Mastodon: the person names their instance; jamhost registers itself there on first use
(one MastodonApp per instance), sends the person to the instance's consent page and
exchanges the code for a token on the way back. Mastodon's tokens do not expire.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from jamhost.networks.crypto import TokenUnreadable, token_decrypt, token_encrypt, tokens_store
from jamhost.networks.models import LinkedAccount, LinkState, MastodonApp, Network
from jamhost.networks.remote import (
    RemoteError,
    RemoteExpired,
    RemoteUnauthorized,
    RemoteUnavailable,
    Session,
    TextRules,
)

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)
REFRESH_MARGIN = timedelta(minutes=1)
LEASE_POLL = 0.1  # seconds between looks at a renewal another process holds
RULES_LIFETIME = timedelta(hours=24)


def _store(*, user: Any, network: str, session: Session, app_password: str = "") -> LinkedAccount:
    with transaction.atomic():
        taken = (
            LinkedAccount.objects.filter(
                network=network, service=session.service, remote_id=session.remote_id
            )
            .exclude(user=user)
            .first()
        )
        if taken is not None:
            raise ValidationError(
                f"{session.handle} is already linked to another jamhost account. "
                "Unlink it there first."
            )
        account, _ = LinkedAccount.objects.update_or_create(
            user=user,
            network=network,
            service=session.service,
            defaults={
                "remote_id": session.remote_id[:300],
                "handle": session.handle[:200],
                "display_name": session.display_name[:120],
                "avatar_url": session.avatar_url[:500]
                if session.avatar_url.startswith("https://")
                else "",
                "profile_url": session.profile_url[:500]
                if session.profile_url.startswith(("https://", "http://"))
                else "",
                "access_token": token_encrypt(session.access_token),
                "refresh_token": token_encrypt(session.refresh_token),
                "app_password": token_encrypt(app_password),
                "expires_at": session.expires_at,
                "revoked_at": None,
                "revoked_reason": "",
            },
        )
    log.info("user %s linked %s account %s", user.pk, network, account.handle)
    return account


# Bluesky -----------------------------------------------------------------------------------


def bluesky_link(*, user: Any, identifier: str, app_password: str) -> LinkedAccount:
    """Link a Bluesky account from its handle (or email) and an app password."""
    from jamhost.networks.bluesky import client as bluesky

    if not settings.BLUESKY_ENABLED:
        raise ValidationError("Bluesky is not switched on for this site.")
    identifier = identifier.strip().lstrip("@")
    if not identifier or len(identifier) > 253 or any(c.isspace() for c in identifier):
        raise ValidationError("Give your Bluesky handle, like alice.bsky.social.")
    app_password = app_password.strip()
    if not app_password or len(app_password) > 100:
        raise ValidationError(
            "Give an app password (Bluesky → Settings → Privacy and security → App passwords)."
        )
    try:
        session = bluesky.session_create(
            service=settings.BLUESKY_SERVICE,
            identifier=identifier,
            app_password=app_password,
            timeout=settings.NETWORK_TIMEOUT,
        )
    except RemoteUnauthorized as exc:
        raise ValidationError(
            f"Bluesky did not accept that handle and app password ({exc.reason})."
        ) from exc
    except RemoteError as exc:
        raise ValidationError(
            f"Bluesky did not answer as expected: {exc.reason}. Try again."
        ) from exc
    return _store(user=user, network=Network.BLUESKY, session=session, app_password=app_password)


def _bluesky_renew(account: LinkedAccount) -> Session:
    """New tokens: a refresh, or, when the refresh token is gone, a new session."""
    from jamhost.networks.bluesky import client as bluesky

    timeout = settings.NETWORK_TIMEOUT
    try:
        return bluesky.session_refresh(
            service=account.service,
            refresh_token=token_decrypt(account.refresh_token),
            timeout=timeout,
        )
    except RemoteUnauthorized:
        password = token_decrypt(account.app_password)
        if not password:
            raise
        return bluesky.session_create(
            service=account.service,
            identifier=account.remote_id,
            app_password=password,
            timeout=timeout,
        )


def bluesky_token(account: LinkedAccount, *, force: bool = False) -> str:
    """A working access token for a linked Bluesky account (renewed when it runs out
    within a minute, or when `force`). Raises RemoteUnauthorized (link again) or
    RemoteUnavailable (try later)."""
    now = timezone.now()
    try:
        access = token_decrypt(account.access_token)
    except TokenUnreadable as exc:
        raise RemoteUnauthorized("the stored tokens cannot be read any more") from exc
    if (
        not force
        and access
        and (account.expires_at is None or account.expires_at > now + REFRESH_MARGIN)
    ):
        return access
    # Bluesky's refresh tokens are single-use and a new session from the app password is
    # rate-limited (30 in 5 minutes): one process at a time renews, under the account's
    # lease (`refreshing_until`), with the call made outside any transaction; the others
    # wait for the tokens it stores. A lease whose holder died runs out after twice
    # NETWORK_TIMEOUT.
    lease = timedelta(seconds=2 * settings.NETWORK_TIMEOUT)
    give_up = time.monotonic() + lease.total_seconds() + 1
    while True:
        with transaction.atomic():
            fresh = LinkedAccount.objects.select_for_update().get(pk=account.pk)
            if fresh.access_token != account.access_token:
                # Renewed by another since this copy was read: its tokens are the new ones.
                account.access_token, account.refresh_token = (
                    fresh.access_token,
                    fresh.refresh_token,
                )
                account.expires_at, account.updated_at = fresh.expires_at, fresh.updated_at
                return token_decrypt(fresh.access_token)
            if fresh.refreshing_until is None or fresh.refreshing_until <= timezone.now():
                fresh.refreshing_until = timezone.now() + lease
                fresh.save(update_fields=["refreshing_until"])
                break
        if time.monotonic() > give_up:
            raise RemoteUnavailable("the Bluesky sign-in is being renewed; try again in a moment")
        time.sleep(LEASE_POLL)
    try:
        session = _bluesky_renew(account)
    except RemoteUnauthorized as exc:
        LinkedAccount.objects.filter(pk=account.pk).update(
            refreshing_until=None, revoked_at=timezone.now(), revoked_reason=exc.reason[:200]
        )
        raise
    except BaseException:
        LinkedAccount.objects.filter(pk=account.pk).update(refreshing_until=None)
        raise
    tokens_store(
        account,
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        expires_at=session.expires_at,
    )
    return session.access_token


# Mastodon ----------------------------------------------------------------------------------


def instance_url(raw: str) -> str:
    """An instance's base URL from what a person typed ("mastodon.social", a URL)."""
    raw = raw.strip().rstrip("/")
    if raw and "://" not in raw:
        raw = f"https://{raw}"
    wrong = ValidationError("Give the instance's address, like mastodon.social.")
    try:
        parts = urlsplit(raw)
        port = parts.port  # ValueError for a port that is not one
    except ValueError:
        raise wrong from None
    host = (parts.hostname or "").lower()
    local = host in {"127.0.0.1", "localhost"}
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not local):
        raise wrong
    if not host or ("." not in host and not local) or parts.path not in ("", "/"):
        raise wrong
    if parts.username is not None or parts.query or parts.fragment:
        raise wrong
    url = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    allowed = [u.rstrip("/").lower() for u in settings.MASTODON_INSTANCES]
    if allowed and url not in allowed:
        raise ValidationError(f"This site links Mastodon accounts on {', '.join(allowed)} only.")
    return url


def mastodon_app(service: str) -> MastodonApp:
    """jamhost's registration on the instance, made on first use."""
    from jamhost.networks.mastodon import client as mastodon

    app = MastodonApp.objects.filter(service=service).first()
    if app is not None and app.redirect_uri == settings.MASTODON_REDIRECT_URI:
        return app
    try:
        client_id, client_secret = mastodon.app_register(
            instance=service,
            redirect_uri=settings.MASTODON_REDIRECT_URI,
            timeout=settings.NETWORK_TIMEOUT,
        )
    except RemoteError as exc:
        raise ValidationError(f"{service} did not let jamhost register: {exc.reason}.") from exc
    app, _ = MastodonApp.objects.update_or_create(
        service=service,
        defaults={
            "client_id": client_id[:200],
            "client_secret": token_encrypt(client_secret),
            "redirect_uri": settings.MASTODON_REDIRECT_URI,
        },
    )
    mastodon_rules_refresh(app)
    return app


def mastodon_rules_refresh(app: MastodonApp) -> MastodonApp:
    """The instance's own limit (read once a day; the last known one if it fails)."""
    from jamhost.networks.mastodon import client as mastodon

    if app.rules_read_at and app.rules_read_at > timezone.now() - RULES_LIFETIME:
        return app
    try:
        rules = mastodon.instance_rules(instance=app.service, timeout=settings.NETWORK_TIMEOUT)
    except RemoteError as exc:
        log.info("could not read %s's limits: %s", app.service, exc.reason)
        return app
    app.max_characters, app.url_weight = rules.limit, _url_weight(rules, app.url_weight)
    app.rules_read_at = timezone.now()
    app.save(update_fields=["max_characters", "url_weight", "rules_read_at"])
    return app


def _url_weight(rules: TextRules, default: int) -> int:
    """The link weight named in the rules' wording ("characters, links count 23")."""
    last = rules.counts.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else default


def mastodon_connect_start(*, user: Any, instance: str, next_url: str = "") -> str:
    """Begin "Connect Mastodon": the instance's consent page to send the person to."""
    from jamhost.networks.mastodon import client as mastodon

    if not settings.MASTODON_ENABLED:
        raise ValidationError("Mastodon is not switched on for this site.")
    service = instance_url(instance)
    app = mastodon_app(service)
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        next_url = ""
    state = secrets.token_urlsafe(24)
    with transaction.atomic():
        LinkState.objects.filter(created_at__lt=timezone.now() - STATE_LIFETIME).delete()
        LinkState.objects.create(state=state, user=user, service=service, next_url=next_url[:300])
    return mastodon.authorize_url(
        instance=service,
        client_id=app.client_id,
        redirect_uri=app.redirect_uri,
        state=state,
    )


def mastodon_link(
    *, user: Any, state: str, code: str, error: str = ""
) -> tuple[LinkedAccount, str]:
    """Finish "Connect Mastodon" from the callback; returns the account and where to go."""
    from jamhost.networks.mastodon import client as mastodon

    pending = LinkState.objects.filter(state=state or "-", user=user).first()
    if pending is None or pending.created_at < timezone.now() - STATE_LIFETIME:
        raise ValidationError(
            "This Mastodon sign-in link is not valid any more (it expired or was used). "
            "Choose “Connect Mastodon” again."
        )
    pending.delete()
    if error or not code:
        raise ValidationError(
            f"The instance did not connect ({(error or 'no code')[:80]}). "
            "Choose “Connect Mastodon” to try again."
        )
    app = MastodonApp.objects.get(service=pending.service)
    try:
        session = mastodon.token_exchange(
            instance=app.service,
            client_id=app.client_id,
            client_secret=token_decrypt(app.client_secret),
            code=code[:500],
            redirect_uri=app.redirect_uri,
            timeout=settings.NETWORK_TIMEOUT,
        )
    except RemoteError as exc:
        raise ValidationError(
            f"{app.service} did not complete the sign-in: {exc.reason}. Try again."
        ) from exc
    account = _store(user=user, network=Network.MASTODON, session=session)
    return account, pending.next_url


def mastodon_token(account: LinkedAccount) -> str:
    try:
        return token_decrypt(account.access_token)
    except TokenUnreadable as exc:
        raise RemoteUnauthorized("the stored token cannot be read any more") from exc


def account_unlink(*, user: Any, account_id: int) -> LinkedAccount:
    """Forget one linked account. Posts stay; new ones do not go there."""
    account = LinkedAccount.objects.filter(pk=account_id, user=user).first()
    if account is None:
        raise ValidationError("That account is not linked to you.")
    account.delete()
    return account


def access_token(account: LinkedAccount) -> str:
    if account.network == Network.BLUESKY:
        try:
            return bluesky_token(account)
        except RemoteExpired:
            return bluesky_token(account, force=True)
    return mastodon_token(account)
