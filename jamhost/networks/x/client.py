"""The X API v2 through tweepy's Client, pointed at X_API_BASE_URL.

tweepy hard-codes https://api.twitter.com, but sends everything through `client.session`
(a requests.Session). A mounted adapter rewrites the host, so the same code talks to X, to
a staging server or to the X-compatible server the tests start. Every call has a timeout
(X_TIMEOUT) and every failure becomes one of the XError classes below, which say whether
trying again later can help.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
import tweepy
from django.conf import settings
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

OFFICIAL_HOSTS = ("https://api.twitter.com", "https://api.x.com")
TWEET_FIELDS = [
    "created_at",
    "author_id",
    "conversation_id",
    "referenced_tweets",
    "public_metrics",
    "entities",
    "lang",
]
USER_FIELDS = ["username", "name", "profile_image_url"]
# edit_history_tweet_ids comes with every post without being asked for.


class XError(Exception):
    """X did not do what was asked. `reason` is safe to show to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class XUnavailable(XError):
    """Timeout, connection failure, 5xx or an unreadable answer: try again later."""


class XRateLimited(XError):
    def __init__(self, reason: str, reset_at: datetime) -> None:
        super().__init__(reason)
        self.reset_at = reset_at


class XUnauthorized(XError):
    """401: the access token is expired or revoked."""


class XRefused(XError):
    """Any other 4xx: X will refuse this again; trying later does not help."""


class BaseUrlAdapter(HTTPAdapter):
    """Sends requests for X's official hosts to X_API_BASE_URL, with a default timeout."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        base = settings.X_API_BASE_URL
        url = request.url or ""
        for host in OFFICIAL_HOSTS:
            if url.startswith(host + "/") and base != host:
                request.url = base + url[len(host) :]
                break
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = settings.X_TIMEOUT
        return super().send(request, **kwargs)


def session_mount(session: requests.Session) -> requests.Session:
    adapter = BaseUrlAdapter()
    for host in OFFICIAL_HOSTS:
        session.mount(host + "/", adapter)
    return session


def x_client(token: str) -> tweepy.Client:
    """A client acting with `token`: a user's OAuth 2.0 access token or the app's bearer.

    Answers come back as requests.Response so callers can read the rate-limit headers and
    parse the JSON themselves (an unreadable body is XUnavailable, not a crash)."""
    client = tweepy.Client(bearer_token=token, return_type=requests.Response)
    session_mount(client.session)
    return client


def _reset_at(response: requests.Response | None) -> datetime | None:
    if response is None:
        return None
    raw = response.headers.get("x-rate-limit-reset", "")
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _describe(exc: tweepy.HTTPException) -> str:
    detail = "; ".join(str(m) for m in exc.api_messages if m) or exc.response.reason or ""
    return f"X answered {exc.response.status_code}" + (f": {detail}" if detail else "")


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one tweepy call and translate every failure into an XError."""
    try:
        return fn(*args, **kwargs)
    except tweepy.TooManyRequests as exc:
        reset = _reset_at(exc.response) or datetime.now(tz=UTC)
        raise XRateLimited(
            f"X rate limit reached; it resets at {reset:%H:%M:%S} UTC", reset
        ) from exc
    except tweepy.TwitterServerError as exc:
        raise XUnavailable(_describe(exc)) from exc
    except tweepy.Unauthorized as exc:
        raise XUnauthorized(_describe(exc)) from exc
    except tweepy.HTTPException as exc:
        raise XRefused(_describe(exc)) from exc
    except requests.Timeout as exc:
        raise XUnavailable(f"X did not answer within {settings.X_TIMEOUT:g} s") from exc
    except (requests.RequestException, ValueError) as exc:
        # ValueError: tweepy could not read the body of an error answer as JSON.
        raise XUnavailable(f"could not reach X ({type(exc).__name__})") from exc
    except (AttributeError, TypeError, KeyError) as exc:
        # tweepy could not read an error answer whose JSON is not an object (`null`, a list).
        raise XUnavailable("X sent an error answer jamhost cannot read") from exc


def body_json(response: requests.Response) -> dict[str, Any]:
    """The answer's JSON object; anything else is XUnavailable (X sent garbage)."""
    try:
        parsed = response.json()
    except (ValueError, json.JSONDecodeError) as exc:
        raise XUnavailable("X sent an answer that is not JSON") from exc
    if not isinstance(parsed, dict):
        raise XUnavailable("X sent JSON that is not an object")
    return parsed


@dataclass
class SearchPage:
    """One page of posts, with the rate-limit state X sent with it."""

    body: dict[str, Any]
    remaining: int | None
    reset_at: datetime | None

    @property
    def posts(self) -> list[Any]:
        data = self.body.get("data")
        return data if isinstance(data, list) else []


def _page(response: requests.Response) -> SearchPage:
    remaining_raw = response.headers.get("x-rate-limit-remaining", "")
    remaining = int(remaining_raw) if remaining_raw.strip().isdigit() else None
    return SearchPage(body=body_json(response), remaining=remaining, reset_at=_reset_at(response))


def search_recent(
    *,
    token: str,
    query: str,
    since_id: str = "",
    next_token: str = "",
    start_time: datetime | None = None,
    max_results: int = 100,
) -> SearchPage:
    """GET /2/tweets/search/recent. Without `start_time` X searches the last 7 days."""
    client = x_client(token)
    response = call(
        client.search_recent_tweets,
        query,
        since_id=since_id or None,
        next_token=next_token or None,
        start_time=start_time,
        max_results=max_results,
        tweet_fields=TWEET_FIELDS,
        expansions=["author_id"],
        user_fields=USER_FIELDS,
        user_auth=False,
    )
    return _page(response)


def user_posts(
    *,
    token: str,
    user_id: str,
    start_time: datetime,
    end_time: datetime | None = None,
    max_results: int = 10,
) -> SearchPage:
    """GET /2/users/:id/tweets: the user's own latest posts in a time window (each post
    returned is a billed read, so callers keep `max_results` small)."""
    client = x_client(token)
    response = call(
        client.get_users_tweets,
        user_id,
        start_time=start_time,
        end_time=end_time,
        max_results=max_results,
        tweet_fields=TWEET_FIELDS,
        user_auth=False,
    )
    return _page(response)


def post_create(*, token: str, text: str, poll: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST /2/tweets, with a native poll when `poll` is {options, duration_minutes}.
    Returns `data` ({id, text}); raises XError."""
    extra: dict[str, Any] = {}
    if poll:
        extra = {
            "poll_options": list(poll["options"]),
            "poll_duration_minutes": int(poll["duration_minutes"]),
        }
    response = call(x_client(token).create_tweet, text=text, user_auth=False, **extra)
    data = body_json(response).get("data")
    if not isinstance(data, dict) or not str(data.get("id", "")).isdigit():
        raise XUnavailable("X accepted the post but its answer has no post id")
    return data


POLL_FIELDS = ["id", "options", "duration_minutes", "end_datetime", "voting_status"]


def post_poll(*, token: str, post_id: str) -> tuple[dict[str, Any] | None, int]:
    """GET /2/tweets?ids=…&expansions=attach_polls.poll_ids: the post's poll (options with
    their votes, voting_status) or None, and the posts X returned (what it bills)."""
    response = call(
        x_client(token).get_tweets,
        [post_id],
        expansions=["attach_polls.poll_ids"],
        poll_fields=POLL_FIELDS,
        user_auth=False,
    )
    body = body_json(response)
    data = body.get("data")
    posts = data if isinstance(data, list) else []
    includes = body.get("includes")
    polls = includes.get("polls") if isinstance(includes, dict) else None
    for post in posts:
        attached = (post.get("attachments") or {}).get("poll_ids") or []
        for poll in polls if isinstance(polls, list) else []:
            if isinstance(poll, dict) and poll.get("id") in attached:
                return poll, len(posts)
    return None, len(posts)


def user_me(*, token: str) -> dict[str, Any]:
    response = call(x_client(token).get_me, user_fields=USER_FIELDS, user_auth=False)
    data = body_json(response).get("data")
    if not isinstance(data, dict) or not data.get("id") or not data.get("username"):
        raise XUnavailable("X sent a profile without an id or username")
    return data
