"""OAuth 2.0 Authorization Code with PKCE through tweepy.OAuth2UserHandler.

The handler is a requests_oauthlib session, so the same host-rewriting adapter as the API
client points it at X_API_BASE_URL. Token endpoint failures become XError classes: an
OAuth error answer (invalid_request, invalid_grant …) means the grant is dead (revoked or
used up) and the user must reconnect; 5xx, 429, timeouts and garbage mean "later".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import tweepy
from django.conf import settings
from oauthlib.oauth2 import OAuth2Error

from jamhost.networks.x.client import OFFICIAL_HOSTS, XRefused, XUnauthorized, XUnavailable
from jamhost.networks.x.client import session_mount as _mount

SCOPES = ["tweet.read", "tweet.write", "users.read", "offline.access"]
TOKEN_URL = "https://api.twitter.com/2/oauth2/token"


def _check_status(response: requests.Response) -> requests.Response:
    if response.status_code >= 500 or response.status_code == 429:
        raise XUnavailable(f"X's sign-in service answered {response.status_code}")
    return response


def oauth_handler() -> tweepy.OAuth2UserHandler:
    handler = tweepy.OAuth2UserHandler(
        client_id=settings.X_CLIENT_ID,
        redirect_uri=settings.X_REDIRECT_URI,
        scope=SCOPES,
        client_secret=settings.X_CLIENT_SECRET or None,
    )
    _mount(handler)
    handler.register_compliance_hook("access_token_response", _check_status)
    handler.register_compliance_hook("refresh_token_response", _check_status)
    return handler


def authorization_start() -> tuple[str, str, str]:
    """(url to send the browser to, state, PKCE code verifier)."""
    handler = oauth_handler()
    url = handler.get_authorization_url()
    state = handler._state
    verifier = handler._client.code_verifier
    base = settings.X_API_BASE_URL
    if base not in OFFICIAL_HOSTS:
        # A staging or test server also plays X's consent page.
        parts = urlsplit(url)
        target = urlsplit(base)
        url = urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))
    return url, state, verifier


def _token_call(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        token = fn(*args, **kwargs)
    except OAuth2Error as exc:
        raise XUnauthorized(f"X refused the sign-in grant ({exc.error})") from exc
    except requests.Timeout as exc:
        raise XUnavailable(f"X did not answer within {settings.X_TIMEOUT:g} s") from exc
    except requests.RequestException as exc:
        raise XUnavailable(f"could not reach X ({type(exc).__name__})") from exc
    except (ValueError, KeyError) as exc:
        raise XUnavailable("X's sign-in service sent an unreadable answer") from exc
    if not isinstance(token, dict) or not token.get("access_token"):
        raise XUnavailable("X's sign-in service sent no access token")
    return dict(token)


def token_exchange(*, code: str, code_verifier: str) -> dict[str, Any]:
    """Trade the callback's code (with the verifier kept server-side) for tokens."""
    if not code:
        raise XRefused("X sent no authorization code")
    handler = oauth_handler()
    # The code comes straight from the callback's query (state already checked by us),
    # rather than the callback URL, which oauthlib refuses over plain http in development.
    return _token_call(
        super(tweepy.OAuth2UserHandler, handler).fetch_token,
        TOKEN_URL,
        code=code,
        auth=handler.auth,
        include_client_id=True,
        code_verifier=code_verifier,
    )


def token_refresh(*, refresh_token: str) -> dict[str, Any]:
    """A new access token (and, as X rotates them, a new refresh token)."""
    handler = oauth_handler()
    return _token_call(
        handler.refresh_token,
        TOKEN_URL,
        refresh_token=refresh_token,
        auth=handler.auth,
        client_id=settings.X_CLIENT_ID,
    )
