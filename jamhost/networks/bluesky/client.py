"""Bluesky through the atproto SDK's XRPC layer (atproto_client's ClientRaw: the generated
namespaces over httpx, without the SDK's session handling, since jamhost keeps the tokens).

Every call takes the server it talks to (the account's PDS as `service`, the AppView as
`appview`; Bluesky's PDSes answer AppView queries too) and a timeout in seconds, and
returns or raises only networks.remote's values and failures.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from atproto_client import models
from atproto_client.client.raw import ClientRaw
from atproto_client.exceptions import InvokeTimeoutError, RequestErrorBase
from atproto_client.models.common import XrpcError
from atproto_client.request import Request
from atproto_core.exceptions import AtProtocolError
from pydantic import ValidationError

from jamhost.networks.bluesky.posts import (
    POST,
    author_from,
    iso,
    post_from_view,
    post_url,
    profile_url,
    uri_parts,
)
from jamhost.networks.bluesky.text import facets
from jamhost.networks.remote import (
    Published,
    RemoteAuthor,
    RemoteError,
    RemoteExpired,
    RemotePage,
    RemoteRateLimited,
    RemoteRefused,
    RemoteUnauthorized,
    RemoteUnavailable,
    Session,
)

DEFAULT_TIMEOUT = 10.0
# What an SDK call raises for a failed request or an answer it cannot read (ValueError: a
# body that is not JSON; ValidationError, TypeError, KeyError, AttributeError: JSON of the
# wrong shape, met by the SDK's models or error parsing).
CALL_ERRORS = (
    AtProtocolError,
    httpx.HTTPError,
    OSError,
    ValidationError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
)
T = TypeVar("T")


@contextmanager
def xrpc(base: str, token: str = "", timeout: float = DEFAULT_TIMEOUT) -> Iterator[ClientRaw]:
    """An XRPC client for `base` (…/xrpc is added), acting with `token` when given; its
    connections are closed on leaving."""
    client = ClientRaw(base_url=base, request=Request(timeout=timeout))
    if token:
        client.request.add_additional_header("Authorization", f"Bearer {token}")
    try:
        yield client
    finally:
        client.request.close()


def _xrpc_error(exc: RequestErrorBase) -> tuple[str, str]:
    content = exc.response.content if exc.response is not None else None
    if isinstance(content, XrpcError):
        return content.error or "", content.message or ""
    return "", ""


def failure(exc: Exception, action: str, timeout: float) -> RemoteError:
    """The contract failure for an exception the SDK (or httpx, or a parser) raised while
    jamhost was `action` ("publishing the post")."""
    if isinstance(exc, InvokeTimeoutError | httpx.TimeoutException):
        return RemoteUnavailable(f"Bluesky did not answer within {timeout:g} s while {action}.")
    if isinstance(exc, RequestErrorBase) and exc.response is not None:
        status = exc.response.status_code
        error, message = _xrpc_error(exc)
        if status == 429:
            reset = _reset_at(exc.response.headers) or datetime.now(tz=UTC)
            return RemoteRateLimited(
                f"Bluesky's rate limit is reached; it resets at {reset:%H:%M:%S} UTC.", reset
            )
        if status >= 500:
            return RemoteUnavailable(f"Bluesky answered {status} while {action}.")
        if status == 400 and error == "ExpiredToken":
            return RemoteExpired("The Bluesky session has expired; it needs a refresh.")
        if status in (401, 403) or error in ("InvalidToken", "ExpiredToken"):
            detail = f" ({message.rstrip('.')})" if message else ""
            return RemoteUnauthorized(
                f"Bluesky no longer accepts this account's session{detail}; link it again."
            )
        detail = message or error or f"it answered {status}"
        return RemoteRefused(f"Bluesky refused {action}: {detail.rstrip('.')}.")
    if isinstance(exc, RequestErrorBase | httpx.HTTPError | OSError):
        return RemoteUnavailable(f"Bluesky could not be reached while {action}.")
    return RemoteUnavailable(f"Bluesky sent an answer jamhost cannot read while {action}.")


def call(action: str, timeout: float, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one SDK call; every failure becomes a networks.remote failure."""
    try:
        return fn(*args, **kwargs)
    except CALL_ERRORS as exc:
        raise failure(exc, action, timeout) from exc


def _reset_at(headers: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(headers.get("ratelimit-reset", "")), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _remaining(headers: dict[str, Any]) -> int | None:
    raw = str(headers.get("ratelimit-remaining", ""))
    return int(raw) if raw.isdigit() else None


def token_expiry(token: str) -> datetime | None:
    """The `exp` of a JWT-shaped token (read, not verified: the PDS verifies)."""
    try:
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        return datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    except (IndexError, ValueError, KeyError, TypeError, OverflowError):
        return None


# Sessions ------------------------------------------------------------------------------


def session_create(
    *, service: str, identifier: str, app_password: str, timeout: float = DEFAULT_TIMEOUT
) -> Session:
    """Sign in with a handle (or DID, or email) and an app password; the Session carries
    the profile's display name and avatar. A wrong password is RemoteUnauthorized."""
    with xrpc(service, timeout=timeout) as client:
        data = models.ComAtprotoServerCreateSession.Data(
            identifier=identifier, password=app_password
        )
        answer = call("signing in", timeout, client.com.atproto.server.create_session, data=data)
        profile = profile_get(
            appview=service, token=answer.access_jwt, actor=answer.did, timeout=timeout
        )
        return Session(
            remote_id=answer.did,
            handle=answer.handle,
            access_token=answer.access_jwt,
            refresh_token=answer.refresh_jwt,
            expires_at=token_expiry(answer.access_jwt),
            display_name=profile.display_name,
            avatar_url=profile.avatar_url,
            profile_url=profile.profile_url,
            service=service,
        )


def session_refresh(
    *, service: str, refresh_token: str, timeout: float = DEFAULT_TIMEOUT
) -> Session:
    """New tokens for a session; the refresh token given is used up (store both new ones).
    A refresh token the PDS no longer takes is RemoteUnauthorized (link again), never
    RemoteExpired. The profile fields stay empty: a refresh does not read the profile."""
    with xrpc(service, token=refresh_token, timeout=timeout) as client:
        try:
            answer = call(
                "refreshing the session", timeout, client.com.atproto.server.refresh_session
            )
        except RemoteExpired as exc:
            raise RemoteUnauthorized(
                "Bluesky no longer accepts this account's session; link it again."
            ) from exc
        return Session(
            remote_id=answer.did,
            handle=answer.handle,
            access_token=answer.access_jwt,
            refresh_token=answer.refresh_jwt,
            expires_at=token_expiry(answer.access_jwt),
            profile_url=profile_url(answer.handle, answer.did),
            service=service,
        )


# Identities ----------------------------------------------------------------------------


def profile_get(
    *, appview: str, token: str, actor: str, timeout: float = DEFAULT_TIMEOUT
) -> RemoteAuthor:
    """app.bsky.actor.getProfile for a handle or DID."""
    with xrpc(appview, token=token, timeout=timeout) as client:
        params = models.AppBskyActorGetProfile.Params(actor=actor)
        view = call(
            "reading the profile", timeout, client.app.bsky.actor.get_profile, params=params
        )
        return author_from(view)


def handle_resolve(*, service: str, handle: str, timeout: float = DEFAULT_TIMEOUT) -> str | None:
    """The DID of `handle`, or None when Bluesky knows no such handle."""
    with xrpc(service, timeout=timeout) as client:
        params = models.ComAtprotoIdentityResolveHandle.Params(handle=handle)
        try:
            answer = call(
                "resolving a handle", timeout, client.com.atproto.identity.resolve_handle, params
            )
        except RemoteRefused:
            return None
        return answer.did


# Posts ---------------------------------------------------------------------------------


def _already_exists(exc: Exception) -> bool:
    if not isinstance(exc, RequestErrorBase) or exc.response is None:
        return False
    error, message = _xrpc_error(exc)
    return exc.response.status_code in (400, 409) and (
        error == "RecordAlreadyExists" or "already exists" in message.lower()
    )


def _record_exists(client: ClientRaw, did: str, rkey: str) -> bool:
    params = models.ComAtprotoRepoGetRecord.Params(repo=did, collection=POST, rkey=rkey)
    try:
        client.com.atproto.repo.get_record(params=params)
    except CALL_ERRORS:
        return False  # not found, or not known now: the caller tries the create again
    return True


def _strong_ref(value: Any) -> tuple[str, str] | None:
    uri = value.get("uri") if isinstance(value, dict) else getattr(value, "uri", None)
    cid = value.get("cid") if isinstance(value, dict) else getattr(value, "cid", None)
    return (uri, cid) if isinstance(uri, str) and isinstance(cid, str) and uri and cid else None


def post_ref(
    *, service: str, access_token: str, uri: str, timeout: float = DEFAULT_TIMEOUT
) -> tuple[tuple[str, str], tuple[str, str]] | None:
    """The post at `uri` as a reply names it: its (uri, cid) and its thread root's (its
    own when it replies to nothing), read with com.atproto.repo.getRecord (a PDS answers
    for repos it does not hold through its AppView). None when Bluesky has no such post
    (deleted): the reply is then published on its own."""
    parts = uri_parts(uri)
    if parts is None or parts[1] != POST:
        return None
    params = models.ComAtprotoRepoGetRecord.Params(repo=parts[0], collection=POST, rkey=parts[2])
    with xrpc(service, token=access_token, timeout=timeout) as client:
        try:
            answer = call(
                "reading the post replied to", timeout, client.com.atproto.repo.get_record, params
            )
        except RemoteRefused:
            return None
    parent = _strong_ref(answer)
    if parent is None:
        return None
    value = answer.value
    reply = value.get("reply") if isinstance(value, dict) else getattr(value, "reply", None)
    root = reply.get("root") if isinstance(reply, dict) else getattr(reply, "root", None)
    return parent, (_strong_ref(root) or parent)


def post_create(
    *,
    service: str,
    access_token: str,
    did: str,
    text: str,
    rkey: str,
    created_at: datetime,
    reply_to: tuple[str, str] | None = None,
    reply_root: tuple[str, str] | None = None,
    handle: str = "",
    langs: tuple[str, ...] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> Published:
    """Publish `text` as the post at://did/app.bsky.feed.post/rkey, with its facets (tags,
    resolved mentions, links). `reply_to` is the parent's (uri, cid); `reply_root` the
    thread's first post (the parent when None).

    Idempotent for a given `rkey` (see posts.post_rkey): when the PDS says the record
    exists, or answers a create with a failure after which the record is found, the post
    is Published. Raises RemoteRefused (too long, invalid), RemoteExpired, RemoteUnauthorized,
    RemoteRateLimited, RemoteUnavailable (it may or may not exist: send again)."""
    record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": iso(created_at)}
    found = facets(
        text, resolve=lambda h: handle_resolve(service=service, handle=h, timeout=timeout)
    )
    if found:
        record["facets"] = found
    if langs:
        record["langs"] = list(langs)
    if reply_to is not None:
        root = reply_root or reply_to
        record["reply"] = {
            "root": {"uri": root[0], "cid": root[1]},
            "parent": {"uri": reply_to[0], "cid": reply_to[1]},
        }
    data = models.ComAtprotoRepoCreateRecord.Data(
        repo=did, collection=POST, rkey=rkey, record=record
    )
    published = Published(remote_id=f"at://{did}/{POST}/{rkey}", url=post_url(handle, did, rkey))
    with xrpc(service, token=access_token, timeout=timeout) as client:
        try:
            client.com.atproto.repo.create_record(data=data)
        except CALL_ERRORS as exc:
            if _already_exists(exc):
                return published
            error = failure(exc, "publishing the post", timeout)
            if isinstance(error, RemoteUnavailable) and _record_exists(client, did, rkey):
                return published
            raise error from exc
    return published


def post_delete(
    *, service: str, access_token: str, remote_id: str, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """Delete the post at the at:// URI `remote_id`; deleting one already gone succeeds."""
    parts = uri_parts(remote_id)
    if parts is None or parts[1] != POST:
        raise RemoteRefused(f"{remote_id!r} is not the at:// URI of a Bluesky post.")
    with xrpc(service, token=access_token, timeout=timeout) as client:
        data = models.ComAtprotoRepoDeleteRecord.Data(repo=parts[0], collection=POST, rkey=parts[2])
        call("deleting the post", timeout, client.com.atproto.repo.delete_record, data=data)


def search_tag(
    *,
    appview: str,
    token: str,
    tag: str,
    since: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
    timeout: float = DEFAULT_TIMEOUT,
) -> RemotePage:
    """One page of app.bsky.feed.searchPosts for the hashtag `tag` (without "#"), newest
    first (sort=latest), from `since` (an ISO datetime, inclusive) on.

    `next_page` is the cursor for the next page of the same search (None on the last);
    `newest` is the newest sortAt seen (the earlier of a post's createdAt and indexedAt,
    what `since` compares): a post indexed late can sort before it, so the next search
    should start a little earlier than `newest` and drop the posts it already has."""
    with xrpc(appview, token=token, timeout=timeout) as client:
        params = models.AppBskyFeedSearchPosts.Params(
            q=f"#{tag}", tag=[tag], since=since, sort="latest", limit=limit, cursor=cursor
        )
        response = call(
            "searching posts", timeout, client.invoke_query, "app.bsky.feed.searchPosts", params
        )
        body = response.content
        items = body.get("posts") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(items, list):
            raise RemoteUnavailable(
                "Bluesky sent a search answer jamhost cannot read (no list of posts)."
            )
        next_page = body.get("cursor")
        page = RemotePage(
            next_page=next_page if isinstance(next_page, str) and next_page else None,
            rate_remaining=_remaining(response.headers),
            rate_reset_at=_reset_at(response.headers),
            reads=len(items),
        )
        newest: datetime | None = None
        for number, item in enumerate(items):
            uri = item.get("uri") if isinstance(item, dict) else None
            try:
                post, sort_at = post_from_view(item)
            except ValueError as exc:
                page.skipped.append(f"{uri or f'item {number}'}: {exc}")
                continue
            page.posts.append(post)
            newest = sort_at if newest is None else max(newest, sort_at)
        page.newest = iso(newest) if newest else None
        return page
