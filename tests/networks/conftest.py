"""The X-compatible server on loopback, with every answer it sends checked against X's own
OpenAPI description (tests/networks/x_openapi.json, a copy of ../shared/x-api), so the
server cannot drift from the real API without these tests failing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from jsonschema import Draft7Validator

from jamhost.networks.crypto import token_encrypt
from jamhost.networks.models import XAccount
from testservers.x.state import XEmulator

SPEC = Path(__file__).with_name("x_openapi.json")
CLIENT_ID = "jamhost-test-client"
APP_BEARER = "app-bearer-token"

RESPONSE_SCHEMAS = {
    ("search_recent", 200): "SearchPostsRecentResponse",
    ("users_tweets", 200): "GetUsersPostsResponse",
    ("tweet_create", 201): "CreatePostsResponse",
    ("tweet_get", 200): "GetPostsByIdResponse",
    ("tweets_lookup", 200): "GetPostsByIdsResponse",
    ("users_me", 200): "GetUsersMeResponse",
    ("rules_get", 200): "GetRulesResponse",
    ("rules_update", 200): "UpdateRulesResponse",
    ("stream", 200): "StreamPostsResponse",
}
# The token endpoint is OAuth 2.0 (RFC 6749 §5.1), not part of X's v2 OpenAPI document.
TOKEN_SCHEMA = {
    "type": "object",
    "required": ["token_type", "access_token", "expires_in", "scope"],
    "properties": {
        "token_type": {"enum": ["bearer"]},
        "access_token": {"type": "string", "minLength": 1},
        "refresh_token": {"type": "string", "minLength": 1},
        "expires_in": {"type": "integer"},
        "scope": {"type": "string"},
    },
}


@cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


@cache
def validator_for(schema_name: str) -> Draft7Validator:
    spec = _spec()
    return Draft7Validator(
        {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    )


def validate_answer(method: str, route: str, status: int, body: Any) -> None:
    if route == "oauth_token" and status == 200:
        Draft7Validator(TOKEN_SCHEMA).validate(body)
        return
    name = RESPONSE_SCHEMAS.get((route, status))
    if (
        name is None
        and isinstance(body, dict)
        and str(body.get("type", "")).startswith("https://api.x.com/2/problems/")
    ):
        name = "Problem"
    if name is None:
        raise AssertionError(f"no schema for {route} {status}")
    validator_for(name).validate(body)


@pytest.fixture
def x_server(settings) -> Iterator[XEmulator]:  # type: ignore[no-untyped-def]
    emulator = XEmulator(validate=validate_answer, client_id=CLIENT_ID)
    emulator.bearer_add(APP_BEARER)
    url = emulator.start()
    settings.X_API_BASE_URL = url
    settings.X_CLIENT_ID = CLIENT_ID
    settings.X_CLIENT_SECRET = ""
    settings.X_BEARER_TOKEN = APP_BEARER
    settings.X_REDIRECT_URI = "http://testserver/accounts/x/callback/"
    settings.X_TIMEOUT = 1.0
    settings.X_TOKEN_KEY = "test-token-key-not-secret"
    settings.SWEEP_INTERVAL = 2.0
    yield emulator
    emulator.stop()
    assert not emulator.validation_errors, emulator.validation_errors


def link_x(emulator: XEmulator, user: Any, *, username: str | None = None) -> XAccount:
    """Give `user` a linked X account with live tokens issued by the server."""
    uid = emulator.user_add(username or f"x_{user.username}", user.first_name or user.username)
    access, refresh = emulator.token_issue(uid)
    return XAccount.objects.create(
        user=user,
        x_user_id=uid,
        username=emulator.users[uid]["username"],
        name=emulator.users[uid]["name"],
        access_token=token_encrypt(access),
        refresh_token=token_encrypt(refresh),
        expires_at=timezone.now() + timedelta(hours=2),
    )
