"""Encryption at rest for the networks' tokens (Fernet), and storing a renewed grant.

The key is X_TOKEN_KEY from the environment: a Fernet key, or any long secret (it is then
stretched with SHA-256). Without X_TOKEN_KEY the key is derived from SECRET_KEY, so
rotating SECRET_KEY then means users reconnect X. Tokens never reach logs or templates.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class TokenUnreadable(Exception):
    """The ciphertext was written with another key (or is damaged)."""


def _fernet() -> Fernet:
    secret = settings.X_TOKEN_KEY or f"jamhost-x-tokens:{settings.SECRET_KEY}"
    try:
        return Fernet(secret.encode())
    except ValueError:
        digest = hashlib.sha256(secret.encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))


def token_encrypt(plain: str) -> str:
    if not plain:
        return ""
    return _fernet().encrypt(plain.encode()).decode()


def token_decrypt(cipher: str) -> str:
    if not cipher:
        return ""
    try:
        return _fernet().decrypt(cipher.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise TokenUnreadable("stored X token cannot be decrypted with the current key") from exc


def tokens_store(
    account: Any, *, access_token: str, refresh_token: str | None, expires_at: datetime | None
) -> None:
    """Store a renewed grant on a linked account (an XAccount or a LinkedAccount),
    encrypted, and end its renewal lease (`refreshing_until`). A refresh token of None
    keeps the stored one (X may not send a new one)."""
    account.access_token = token_encrypt(access_token)
    if refresh_token is not None:
        account.refresh_token = token_encrypt(refresh_token)
    account.expires_at = expires_at
    account.refreshing_until = None
    account.save(
        update_fields=[
            "access_token",
            "refresh_token",
            "expires_at",
            "refreshing_until",
            "updated_at",
        ]
    )
