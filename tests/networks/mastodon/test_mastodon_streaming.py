"""networks.mastodon.streaming: hashtag stream events as RemotePost / RemoteDeletion, and
the listener thread against the Mastodon-compatible server (create, edit, delete,
reconnects, a revoked token)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from jamhost.networks.mastodon.statuses import status_ref
from jamhost.networks.mastodon.streaming import StreamItem, stream_event, stream_listen
from jamhost.networks.remote import (
    RemoteDeletion,
    RemoteError,
    RemotePost,
    RemoteUnauthorized,
    RemoteUnavailable,
)
from testservers.mastodon.state import MastodonEmulator
from testservers.mastodon.wire import Fault

pytestmark = pytest.mark.timeout(30)


def _status(masto: MastodonEmulator, sid: str) -> str:
    return json.dumps(requests.get(f"{masto.base_url}/api/v1/statuses/{sid}", timeout=5).json())


def test_stream_events_become_contract_values(masto: MastodonEmulator) -> None:
    sid = masto.status_add(masto.consenting_user, "Hello &amp; <b>#Jam</b>")
    post = stream_event("update", _status(masto, sid), masto.base_url)
    assert isinstance(post, RemotePost)
    assert post.text == "Hello &amp; <b>#Jam</b>" and post.tags == ("jam",)
    assert post.remote_id == f"{masto.base_url}/users/alice/statuses/{sid}"
    masto.status_edit(sid, "Hello again #jam")
    edited = stream_event("status.update", _status(masto, sid), masto.base_url)
    assert isinstance(edited, RemotePost) and edited.edited_at is not None
    assert stream_event("delete", sid, masto.base_url, {sid: post.remote_id}) == RemoteDeletion(
        post.remote_id
    )
    assert stream_event("delete", "42", masto.base_url) == RemoteDeletion(
        status_ref(masto.base_url, "42")
    )
    boost = masto.status_boost(masto.consenting_user, sid)
    assert stream_event("update", _status(masto, boost), masto.base_url) is None
    broken = json.loads(_status(masto, sid))
    del broken["account"]
    for event, data in [
        ("update", "{not json"),
        ("update", "[1, 2]"),
        ("update", json.dumps(broken)),
        ("notification", _status(masto, sid)),
        ("delete", ""),
    ]:
        assert stream_event(event, data, masto.base_url) is None


class Listener:
    def __init__(self) -> None:
        self.items: list[StreamItem] = []
        self.errors: list[RemoteError] = []
        self.stop = threading.Event()

    def wait_for(self, check: Callable[[], bool], seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            assert time.monotonic() < deadline, (self.items, self.errors)
            time.sleep(0.02)


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.stop.set()


def _listen(masto: MastodonEmulator, listener: Listener, token: str | None) -> threading.Thread:
    return stream_listen(
        masto.base_url,
        token,
        "#Jam",
        listener.items.append,
        listener.stop,
        on_error=listener.errors.append,
        timeout=2,
        retry_wait=0.1,
    )


def test_listener_hears_creates_edits_and_deletes(
    masto: MastodonEmulator, token: str, listener: Listener
) -> None:
    thread = _listen(masto, listener, token)
    listener.wait_for(lambda: masto.streams_open == 1)
    sid = masto.status_add(masto.consenting_user, "Live #jam")
    masto.status_add(masto.consenting_user, "Elsewhere #other")
    masto.status_edit(sid, "Live, edited #jam")
    masto.status_remove(sid)
    listener.wait_for(lambda: len(listener.items) == 3)
    created, edited, deleted = listener.items
    assert isinstance(created, RemotePost) and created.text == "Live #jam"
    assert isinstance(edited, RemotePost) and edited.text == "Live, edited #jam"
    assert edited.remote_id == created.remote_id and edited.edited_at is not None
    assert deleted == RemoteDeletion(created.remote_id)  # the URI, remembered from the create
    listener.stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert listener.errors == []


def test_listener_reconnects_after_the_stream_ends_or_fails(
    masto: MastodonEmulator, listener: Listener
) -> None:
    masto.fault_next("/api/v1/streaming", Fault("503"))
    _listen(masto, listener, None)
    listener.wait_for(lambda: masto.streams_open == 1)
    assert len(listener.errors) == 1 and isinstance(listener.errors[0], RemoteUnavailable)
    masto.streams_close()  # a restart of the streaming server
    listener.wait_for(lambda: masto.streams_open == 1)
    masto.status_add(masto.consenting_user, "After the restart #jam")
    listener.wait_for(lambda: len(listener.items) == 1)
    assert isinstance(listener.items[0], RemotePost)


def test_listener_stops_when_the_token_is_revoked(
    masto: MastodonEmulator, token: str, listener: Listener
) -> None:
    masto.tokens_revoke()
    thread = _listen(masto, listener, token)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert [type(e) for e in listener.errors] == [RemoteUnauthorized]
