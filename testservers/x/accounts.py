"""Sign-in endpoints of the X-compatible server: the signed-in user, OAuth 2.0 with PKCE
(authorization code, refresh-token rotation). A mixin of handler.Handler."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

from testservers.x.plumbing import Plumbing


class AccountRoutes(Plumbing):
    def users_me(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        user_id = self._bearer_user()
        if not user_id:
            self._unauthorized()
            return
        fields = set(",".join(query.get("user.fields", [])).split(","))
        with self.x.lock:
            users = self._users([user_id], fields)
        self._send(200, {"data": users[0]} if users else {"data": {}}, route="users_me")

    def oauth_authorize(self, path: str, query: dict[str, list[str]], _: Any, __: Any) -> None:
        first = {k: v[0] for k, v in query.items()}
        if first.get("code_challenge_method") != "S256" or not first.get("code_challenge"):
            self._send(400, {"error": "invalid_request", "error_description": "PKCE S256 required"})
            return
        with self.x.lock:
            code = secrets.token_urlsafe(16)
            self.x.codes[code] = (
                self.x.consenting_user,
                first["code_challenge"],
                first.get("redirect_uri", ""),
            )
        target = (
            first.get("redirect_uri", "")
            + "?"
            + urlencode({"state": first.get("state", ""), "code": code})
        )
        self.send_response(302)
        self.send_header("location", target)
        self.send_header("content-length", "0")
        self.end_headers()

    def oauth_token(self, path: str, _: Any, form: Any, __: Any) -> None:
        form = form if isinstance(form, dict) else {}

        def refuse(description: str) -> None:
            self._send(400, {"error": "invalid_request", "error_description": description})

        grant = form.get("grant_type")
        with self.x.lock:
            if grant == "authorization_code":
                entry = self.x.codes.pop(form.get("code", ""), None)
                if entry is None:
                    refuse("Value passed for the authorization code was invalid.")
                    return
                user_id, challenge, redirect_uri = entry
                verifier = form.get("code_verifier", "")
                computed = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                    .decode()
                    .rstrip("=")
                )
                if computed != challenge or form.get("redirect_uri") != redirect_uri:
                    refuse("Value passed for the code verifier or redirect uri was invalid.")
                    return
            elif grant == "refresh_token":
                owner = self.x.refresh.pop(form.get("refresh_token", ""), None)
                if owner is None:
                    refuse("Value passed for the token was invalid.")
                    return
                user_id = owner
            else:
                refuse("Missing required parameter [grant_type].")
                return
            access, refresh = self.x.token_issue(user_id)
        self._send(
            200,
            {
                "token_type": "bearer",
                "expires_in": self.x.token_lifetime,
                "access_token": access,
                "refresh_token": refresh,
                "scope": "tweet.read tweet.write users.read offline.access",
            },
            route="oauth_token",
        )
