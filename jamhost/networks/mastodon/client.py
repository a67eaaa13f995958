"""Any Mastodon instance through Mastodon.py: register jamhost as an app, sign an account
in, read the instance's text rules, post and delete statuses, read a hashtag's timeline.

Each thread keeps a Mastodon.py client per instance and token, with a timeout, rate limits
thrown rather than slept through and no version check (two more requests per client).
Every failure becomes one of networks.remote's RemoteError classes, read from the last
HTTP answer the instance gave (a requests.Session records it): timeouts, 5xx and garbage
are RemoteUnavailable, 429 RemoteRateLimited, 401/403 RemoteUnauthorized, other 4xx (422
too long, a banned word) RemoteRefused with the instance's own message.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from mastodon import Mastodon, MastodonError

from jamhost.networks.mastodon.statuses import (
    BOOST,
    Malformed,
    author_of,
    instance_base,
    instance_host,
    is_boost,
    remote_post,
)
from jamhost.networks.mastodon.text import DEFAULT_LIMIT, DEFAULT_URL_WEIGHT, rules_for
from jamhost.networks.remote import (
    Published,
    RemoteError,
    RemotePage,
    RemoteRateLimited,
    RemoteRefused,
    RemoteUnauthorized,
    RemoteUnavailable,
    Session,
    TextRules,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
APP_NAME = "jamhost"
APP_WEBSITE = "https://github.com/jamhost/jamhost"
SCOPES = ["read", "write"]
PAGE_LIMIT = 40  # the most a Mastodon timeline returns at once
_STATUS_ID = re.compile(r"/(?:statuses|@[^/]+)/(\d+)/?$")


class _Recorder(requests.Session):
    """A session that keeps the answer to its latest request (None while one is out)."""

    last: requests.Response | None = None

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.last = None
        response = super().request(*args, **kwargs)
        self.last = response
        return response


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [body.get("error"), body.get("error_description")]
    return ": ".join(str(p) for p in parts if isinstance(p, str) and p)


def rate_reset(response: requests.Response | None) -> datetime:
    """X-RateLimit-Reset (Mastodon sends an ISO 8601 time; some servers epoch seconds)."""
    raw = response.headers.get("X-RateLimit-Reset", "") if response is not None else ""
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (ValueError, OverflowError):
        pass
    try:
        when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except ValueError:
        return datetime.now(tz=UTC) + timedelta(minutes=5)


def _failure(exc: Exception, session: _Recorder, host: str, timeout: float) -> RemoteError:
    response = session.last
    if response is None:
        chain = f"{exc} {exc.__context__ or ''}"
        if "timed out" in chain.lower() or "timeout" in chain.lower():
            return RemoteUnavailable(f"{host} did not answer within {timeout:g} s")
        return RemoteUnavailable(f"could not reach {host} ({type(exc).__name__})")
    status, message = response.status_code, _message(response)
    said = f"{host} answered {status}" + (f": {message}" if message else "")
    if status == 429:
        reset = rate_reset(response)
        return RemoteRateLimited(
            f"{host} rate limit reached; it resets at {reset:%H:%M:%S} UTC", reset
        )
    if status == 401 or (status == 403 and "not allowed" not in message):
        return RemoteUnauthorized(said)
    if status >= 500 or status < 400:
        # A 2xx or 3xx that raised is an answer Mastodon.py could not read.
        return RemoteUnavailable(
            said if status >= 500 else f"{host} sent an answer jamhost cannot read"
        )
    return RemoteRefused(message or said)


@contextmanager
def _calling(session: _Recorder, instance: str, timeout: float) -> Iterator[None]:
    """Turn whatever a Mastodon.py call raises into a RemoteError."""
    try:
        yield
    except RemoteError:
        raise
    except (
        MastodonError,
        requests.RequestException,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
    ) as exc:
        raise _failure(exc, session, instance_host(instance), timeout) from exc


_clients = threading.local()
CLIENTS_PER_THREAD = 16


def _api(instance: str, token: str | None, timeout: float) -> tuple[Mastodon, _Recorder]:
    """A Mastodon.py client for `instance` and `token`, reused within a thread (Mastodon.py
    reads the instance's description once per client before a timeline)."""
    cache: OrderedDict[tuple[str, str, float], tuple[Mastodon, _Recorder]]
    cache = _clients.__dict__.setdefault("cache", OrderedDict())
    key = (instance_base(instance), token or "", timeout)
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    session = _Recorder()
    api = Mastodon(
        access_token=token or None,
        api_base_url=key[0],
        request_timeout=timeout,
        ratelimit_method="throw",
        version_check_mode="none",
        session=session,
    )
    cache[key] = (api, session)
    while len(cache) > CLIENTS_PER_THREAD:
        cache.popitem(last=False)[1][1].close()
    return api, session


def app_register(
    instance: str, redirect_uri: str, *, timeout: float = DEFAULT_TIMEOUT
) -> tuple[str, str]:
    """POST /api/v1/apps: (client_id, client_secret) of jamhost's app on `instance`."""
    session = _Recorder()
    with _calling(session, instance, timeout):
        client_id, secret = Mastodon.create_app(
            APP_NAME,
            scopes=SCOPES,
            redirect_uris=redirect_uri,
            website=APP_WEBSITE,
            api_base_url=instance_base(instance),
            request_timeout=timeout,
            session=session,
        )
    if not isinstance(client_id, str) or not isinstance(secret, str) or not client_id or not secret:
        raise RemoteUnavailable(f"{instance_host(instance)} registered the app without credentials")
    return client_id, secret


def authorize_url(instance: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Where to send the person to sign in and consent (no request is made). Mastodon.py's
    `force_login=False` and `lang=None` are left out: Rails reads "False" as true and
    would make a signed-in person sign in again."""
    api = Mastodon(api_base_url=instance_base(instance), version_check_mode="none")
    url = urlsplit(
        api.auth_request_url(
            client_id=client_id,
            redirect_uris=redirect_uri,
            scopes=SCOPES,
            state=state,
            skip_server_info=True,
        )
    )
    unsaid = {("force_login", "False"), ("lang", "None")}
    query = [pair for pair in parse_qsl(url.query) if pair not in unsaid]
    return urlunsplit(url._replace(query=urlencode(query)))


def token_exchange(
    instance: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> Session:
    """POST /oauth/token (authorization_code), then the account it signs in as. A code
    already used or not issued to this app is RemoteRefused."""
    base = instance_base(instance)
    session = _Recorder()
    with _calling(session, instance, timeout):
        api = Mastodon(
            client_id=client_id,
            client_secret=client_secret,
            api_base_url=base,
            request_timeout=timeout,
            ratelimit_method="throw",
            version_check_mode="none",
            session=session,
        )
        token = api.log_in(
            code=code, redirect_uri=redirect_uri, scopes=SCOPES, allow_http=base.startswith("http:")
        )
        account = api.account_verify_credentials()
    if not isinstance(token, str) or not token:
        raise RemoteUnavailable(f"{instance_host(instance)} sent no access token")
    try:
        author = author_of(account, instance)
    except Malformed as exc:
        raise RemoteUnavailable(
            f"{instance_host(instance)} sent an account jamhost cannot read"
        ) from exc
    return Session(
        remote_id=author.remote_id,
        handle=author.handle,
        access_token=token,
        display_name=author.display_name,
        avatar_url=author.avatar_url,
        profile_url=author.profile_url,
        service=base,
    )


def _positive(holder: Any, name: str) -> int | None:
    value = holder.get(name) if isinstance(holder, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def instance_rules(instance: str, *, timeout: float = DEFAULT_TIMEOUT) -> TextRules:
    """The instance's status limit and link weight: /api/v2/instance, else /api/v1/instance,
    else Mastodon's defaults (500, 23)."""
    api, session = _api(instance, None, timeout)
    statuses: Any = None
    for fetch in (api.instance_v2, api.instance_v1):
        try:
            with _calling(session, instance, timeout):
                described = fetch()
        except (RemoteRefused, RemoteUnauthorized):
            continue  # no such version of the endpoint here, or not without signing in
        configuration = described.get("configuration") if isinstance(described, dict) else None
        statuses = configuration.get("statuses") if isinstance(configuration, dict) else None
        if isinstance(statuses, dict):
            break
    limit = _positive(statuses, "max_characters") or DEFAULT_LIMIT
    weight = _positive(statuses, "characters_reserved_per_url") or DEFAULT_URL_WEIGHT
    return rules_for(limit, weight)


def _local_id(api: Mastodon, instance: str, reference: str) -> str:
    """A status's id on `instance` from its id, or its URI or URL (one of another server's
    statuses is looked up through the instance's search)."""
    if reference.isdigit():
        return reference
    found = _STATUS_ID.search(urlsplit(reference).path)
    if found and urlsplit(reference).netloc == instance_host(instance):
        return found.group(1)
    result = api.search_v2(reference, resolve=True, result_type="statuses")
    statuses = result.get("statuses") if isinstance(result, dict) else None
    if not statuses:
        raise RemoteRefused(f"{instance_host(instance)} does not know the status {reference}")
    return str(statuses[0]["id"])


def status_post(
    instance: str,
    token: str,
    text: str,
    idempotency_key: str,
    in_reply_to_id: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> Published:
    """POST /api/v1/statuses, public. Sending again with the same `idempotency_key` within
    an hour (after a timeout, a cut connection) returns the status the first send made,
    never a second one. `in_reply_to_id` is a status's id on the instance, or its URI; a
    status the instance cannot find (deleted, or unknown to it) leaves the new one
    standing on its own."""
    api, session = _api(instance, token, timeout)
    with _calling(session, instance, timeout):
        reply = None
        if in_reply_to_id:
            try:
                reply = _local_id(api, instance, in_reply_to_id)
            except RemoteRefused:
                log.info("%s: not a reply, %s", instance_host(instance), in_reply_to_id[:200])
        try:
            status = api.status_post(
                text, in_reply_to_id=reply, visibility="public", idempotency_key=idempotency_key
            )
        except MastodonError:
            if reply is None or session.last is None or session.last.status_code != 404:
                raise
            # "The post you are trying to reply to does not appear to exist": deleted since.
            log.info("%s: status %s is gone, not a reply", instance_host(instance), reply)
            status = api.status_post(
                text, in_reply_to_id=None, visibility="public", idempotency_key=idempotency_key
            )
    uri = status.get("uri") if isinstance(status, dict) else None
    if not isinstance(uri, str) or not uri:
        raise RemoteUnavailable(f"{instance_host(instance)} accepted the status but sent no uri")
    url = status.get("url")
    return Published(remote_id=uri, url=url if isinstance(url, str) and url else uri)


def status_delete(
    instance: str, token: str, status: str, *, timeout: float = DEFAULT_TIMEOUT
) -> None:
    """DELETE /api/v1/statuses/:id; `status` is its id, URI or URL. A status already gone
    counts as deleted."""
    api, session = _api(instance, token, timeout)
    with _calling(session, instance, timeout):
        try:
            api.status_delete(_local_id(api, instance, status))
        except MastodonError:
            if session.last is not None and session.last.status_code == 404:
                return
            raise


def tag_page(
    instance: str,
    token: str | None,
    tag: str,
    min_id: str | None,
    max_id: str | None = None,
    *,
    limit: int = PAGE_LIMIT,
    timeout: float = DEFAULT_TIMEOUT,
) -> RemotePage:
    """GET /api/v1/timelines/tag/:tag. With `min_id`: the page just newer than it, and
    `next_page` the min_id of the page after (None once caught up). With `max_id`: the page
    just older, `next_page` the max_id of the one before it. With neither: the newest page
    (`next_page` None). `newest` is the highest status id seen (boosts included), else
    `min_id`. Boosts and malformed statuses are left out with their reason.

    Ids follow creation time: a status that reaches the timeline late (federation, the
    instance's queues) can carry an id below a `newest` already saved, and min_id paging
    never returns it; the hashtag stream (networks.mastodon.streaming) or re-reading a
    recent window catches those."""
    api, session = _api(instance, token, timeout)
    with _calling(session, instance, timeout):
        items = api.timeline_hashtag(tag.lstrip("#"), min_id=min_id, max_id=max_id, limit=limit)
    if not isinstance(items, list):
        raise RemoteUnavailable(f"{instance_host(instance)} sent a timeline that is not a list")
    page = RemotePage(reads=len(items))
    ids: list[int] = []
    uris = {
        str(s.get("id")): str(s.get("uri")) for s in items if isinstance(s, dict) and s.get("uri")
    }
    for status in items:
        raw_id = str(status.get("id", "")) if isinstance(status, dict) else ""
        if raw_id.isdigit():
            ids.append(int(raw_id))
        if isinstance(status, dict) and is_boost(status):
            page.skipped.append(f"status {raw_id}: {BOOST}")
            continue
        try:
            page.posts.append(remote_post(status, instance, uris))
        except Malformed as exc:
            page.skipped.append(f"status {raw_id or '?'}: {exc}")
    page.newest = str(max(ids)) if ids else min_id
    full = len(items) >= limit and ids
    if full and max_id:
        page.next_page = str(min(ids))
    elif full and min_id:
        page.next_page = str(max(ids))
    response = session.last
    if response is not None:
        remaining = response.headers.get("X-RateLimit-Remaining", "")
        page.rate_remaining = int(remaining) if remaining.isdigit() else None
        if response.headers.get("X-RateLimit-Reset"):
            page.rate_reset_at = rate_reset(response)
    return page
