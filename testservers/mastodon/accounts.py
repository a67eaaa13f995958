"""Apps, OAuth, the signed-in account and the instance's description. A mixin of
handler.Handler."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from testservers.mastodon.plumbing import Plumbing
from testservers.mastodon.render import credential_account_json, instance_v1_json, instance_v2_json

OOB = "urn:ietf:wg:oauth:2.0:oob"


class AccountRoutes(Plumbing):
    def app_create(self, path: str, _: Any, payload: Any, __: Any) -> None:
        """POST /api/v1/apps: a CredentialApplication."""
        payload = payload if isinstance(payload, dict) else {}
        name = str(payload.get("client_name") or "").strip()
        uris = str(payload.get("redirect_uris") or "").split()
        if not name or not uris:
            missing = "Name" if not name else "Redirect URI"
            self._error(422, f"Validation failed: {missing} can't be blank")
            return
        scopes = str(payload.get("scopes") or "read").split()
        client_id = secrets.token_urlsafe(32)
        app = {
            "id": str(100 + len(self.m.apps)),
            "name": name,
            "website": payload.get("website") or None,
            "scopes": scopes,
            "redirect_uris": uris,
            "redirect_uri": "\n".join(uris),
            "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0=",
            "client_id": client_id,
            "client_secret": secrets.token_urlsafe(32),
            "client_secret_expires_at": 0,
        }
        with self.m.lock:
            self.m.apps[client_id] = app
        self._send(200, app, route="app_create")

    def oauth_authorize(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        """GET /oauth/authorize: the consenting user agrees at once; 302 to the app."""
        params = {k: v[0] for k, v in query.items()}
        app = self.m.apps.get(params.get("client_id", ""))
        redirect = params.get("redirect_uri", "")
        if app is None or redirect not in app["redirect_uris"]:
            self._error(400, "The redirect uri included is not valid.")
            return
        if params.get("response_type") != "code" or not self.m.consenting_user:
            self._error(400, "The authorization server does not support this response type.")
            return
        code = secrets.token_urlsafe(24)
        scope = params.get("scope") or "read"
        with self.m.lock:
            self.m.codes[code] = (app["client_id"], redirect, self.m.consenting_user, scope)
        answer = {"code": code, **({"state": params["state"]} if params.get("state") else {})}
        if redirect == OOB:
            self._send(200, {"code": code})
            return
        joiner = "&" if "?" in redirect else "?"
        self._send(302, b"", {"Location": redirect + joiner + urlencode(answer)})

    def oauth_token(self, path: str, _: Any, payload: Any, __: Any) -> None:
        """POST /oauth/token with grant_type=authorization_code: a Token."""
        payload = payload if isinstance(payload, dict) else {}
        app = self.m.apps.get(str(payload.get("client_id", "")))
        if app is None or app["client_secret"] != payload.get("client_secret"):
            self._send(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed due to unknown client, "
                    "no client authentication included, or unsupported authentication method.",
                },
            )
            return
        if payload.get("grant_type") != "authorization_code":
            self._send(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "The "
                    "authorization grant type is not supported by the authorization server.",
                },
            )
            return
        with self.m.lock:
            entry = self.m.codes.pop(str(payload.get("code", "")), None)
        if entry is None or entry[0] != app["client_id"] or entry[1] != payload.get("redirect_uri"):
            self._send(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "The provided authorization grant is invalid, expired, "
                    "revoked, does not match the redirection URI used in the authorization "
                    "request, or was issued to another client.",
                },
            )
            return
        token = self.m.token_add(entry[2], entry[3])
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "scope": entry[3],
            "created_at": int(datetime.now(tz=UTC).timestamp()),
        }
        self._send(200, body, route="oauth_token")

    def verify_credentials(self, path: str, _: Any, __: Any, ___: Any) -> None:
        account = self._account()
        if account is None:
            return
        with self.m.lock:
            body = credential_account_json(self.m, account)
        self._send(200, body, route="verify_credentials")

    def instance_v1(self, path: str, _: Any, __: Any, ___: Any) -> None:
        with self.m.lock:
            body = instance_v1_json(self.m)
        self._send(200, body, route="instance_v1")

    def instance_v2(self, path: str, _: Any, __: Any, ___: Any) -> None:
        with self.m.lock:
            body = instance_v2_json(self.m)
        self._send(200, body, route="instance_v2")
