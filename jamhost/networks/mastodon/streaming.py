"""A hashtag's live statuses from Mastodon's streaming API (Server-Sent Events): each
event as a RemotePost or RemoteDeletion, and a listener thread that stays connected.

The streaming server may live elsewhere than the API (the instance's
configuration.urls.streaming, a ws(s):// address that also answers SSE over http(s)).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from urllib.parse import urlsplit

import requests

from jamhost.networks.mastodon.client import rate_reset
from jamhost.networks.mastodon.statuses import (
    Malformed,
    instance_base,
    instance_host,
    is_boost,
    remote_post,
    status_ref,
)
from jamhost.networks.remote import (
    RemoteDeletion,
    RemoteError,
    RemotePost,
    RemoteRateLimited,
    RemoteUnauthorized,
    RemoteUnavailable,
)

log = logging.getLogger(__name__)

READ_TIMEOUT = 60.0  # Mastodon sends a heartbeat comment every 15 s
KNOWN_MAX = 10_000  # status ids -> URIs a listener remembers, for the deletes that follow
StreamItem = RemotePost | RemoteDeletion


def stream_event(
    event: str, data: str, instance: str, known: Mapping[str, str] | None = None
) -> StreamItem | None:
    """One event of a hashtag stream: `update` and `status.update` (a new or edited status)
    give a RemotePost, `delete` a RemoteDeletion (of the URI `known` has for the id, else of
    status_ref()). Boosts, other events and data that is not a status give None."""
    if event == "delete":
        status_id = data.strip().strip('"')
        if not status_id:
            return None
        return RemoteDeletion(
            remote_id=(known or {}).get(status_id) or status_ref(instance, status_id)
        )
    if event not in ("update", "status.update"):
        return None
    try:
        status = json.loads(data)
    except ValueError:
        log.warning("mastodon stream %s: an %s event whose data is not JSON", instance, event)
        return None
    if not isinstance(status, dict) or is_boost(status):
        return None
    try:
        return remote_post(status, instance)
    except Malformed as exc:
        log.warning("mastodon stream %s: a status left out (%s)", instance, exc)
        return None


def _events(response: requests.Response, stop: threading.Event) -> Iterator[tuple[str, str]]:
    """(event, data) pairs from an SSE body, until it ends or `stop` is set."""
    buffer = b""
    event, data = "", list[str]()
    for chunk in response.iter_content(chunk_size=None):
        if stop.is_set():
            return
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", errors="replace")
            if not line:
                if data:
                    yield event or "message", "\n".join(data)
                event, data = "", []
            elif line.startswith(":"):
                continue
            else:
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "event":
                    event = value
                elif name == "data":
                    data.append(value)


def streaming_base(instance: str, timeout: float) -> str:
    """The instance's streaming server as an http(s) base URL (the API's when unsaid)."""
    base = instance_base(instance)
    try:
        answer = requests.get(f"{base}/api/v2/instance", timeout=timeout)
        urls = answer.json()["configuration"]["urls"]
        found = urlsplit(str(urls["streaming"]))
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return base
    scheme = {"wss": "https", "ws": "http"}.get(found.scheme, found.scheme)
    return f"{scheme}://{found.netloc}" if scheme in ("http", "https") and found.netloc else base


def _listen_once(
    instance: str,
    token: str | None,
    tag: str,
    on_event: Callable[[StreamItem], None],
    stop: threading.Event,
    known: OrderedDict[str, str],
    timeout: float,
) -> None:
    host = instance_host(instance)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.get(
            f"{streaming_base(instance, timeout)}/api/v1/streaming",
            params={"stream": "hashtag", "tag": tag.lstrip("#").lower()},
            headers=headers,
            stream=True,
            timeout=(timeout, READ_TIMEOUT),
        )
    except requests.RequestException as exc:
        raise RemoteUnavailable(
            f"could not reach {host}'s streaming API ({type(exc).__name__})"
        ) from exc
    with response:
        if response.status_code in (401, 403):
            raise RemoteUnauthorized(f"{host}'s streaming API answered {response.status_code}")
        if response.status_code == 429:
            raise RemoteRateLimited(f"{host}'s streaming API is rate limited", rate_reset(response))
        if response.status_code != 200:
            raise RemoteUnavailable(f"{host}'s streaming API answered {response.status_code}")
        try:
            for event, data in _events(response, stop):
                item = stream_event(event, data, instance, known)
                if isinstance(item, RemotePost):
                    status_id = _status_id(data)
                    if status_id:
                        known[status_id] = item.remote_id
                        while len(known) > KNOWN_MAX:
                            known.popitem(last=False)
                if item is not None:
                    try:
                        on_event(item)
                    except Exception:
                        log.exception("mastodon stream %s: on_event failed", host)
        except requests.RequestException as exc:
            raise RemoteUnavailable(f"{host}'s stream was cut ({type(exc).__name__})") from exc


def _status_id(data: str) -> str:
    try:
        found = json.loads(data).get("id")
    except (ValueError, AttributeError):
        return ""
    return str(found) if found is not None else ""


def stream_listen(
    instance: str,
    token: str | None,
    tag: str,
    on_event: Callable[[StreamItem], None],
    stop: threading.Event,
    *,
    on_error: Callable[[RemoteError], None] | None = None,
    timeout: float = 10.0,
    retry_wait: float = 1.0,
    retry_max: float = 60.0,
) -> threading.Thread:
    """Listen to `tag`'s stream on a daemon thread until `stop` is set, calling `on_event`
    with each RemotePost and RemoteDeletion. A cut stream, 5xx or 429 is reported to
    `on_error` and reconnected after `retry_wait` seconds, doubling to `retry_max` while it
    keeps failing (a stream the server ends is opened again after `retry_wait`);
    RemoteUnauthorized is reported and ends the thread (the token is gone).
    Returns the started thread."""

    def run() -> None:
        known: OrderedDict[str, str] = OrderedDict()
        wait = retry_wait
        while not stop.is_set():
            try:
                _listen_once(instance, token, tag, on_event, stop, known, timeout)
                wait = retry_wait  # it ended cleanly (a restart): connect again soon
                stop.wait(wait)
            except RemoteError as exc:
                if on_error is not None:
                    on_error(exc)
                if isinstance(exc, RemoteUnauthorized):
                    return
                stop.wait(wait)
                wait = min(wait * 2, retry_max)

    thread = threading.Thread(target=run, name=f"mastodon-stream-{tag}", daemon=True)
    thread.start()
    return thread
