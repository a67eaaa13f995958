"""Jetstream: one message read into a remote value, and the listener against the
Bluesky-compatible server's websocket (creates, deletes, reconnects with the cursor)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from jamhost.networks.bluesky.jetstream import (
    Skipped,
    jetstream_event,
    jetstream_listen,
    jetstream_url,
)
from jamhost.networks.remote import RemoteDeletion, RemotePost
from testservers.bluesky.state import BlueskyEmulator

DID = "did:plc:abcdefghijklmnopqrstuvwx"
RECORD = {
    "$type": "app.bsky.feed.post",
    "text": "Voilà #Jam 🎶",
    "createdAt": "2026-12-03T04:00:00.000Z",
    "langs": ["fr"],
    "facets": [
        {
            "index": {"byteStart": 7, "byteEnd": 11},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Jam"}],
        }
    ],
}


def commit(operation: str = "create", record: object = RECORD, **extra: object) -> str:
    body: dict = {
        "rev": "3n3qfncx2no2b",
        "operation": operation,
        "collection": "app.bsky.feed.post",
    }
    body["rkey"] = "3n3qfncx2nobe"
    if operation != "delete":
        body.update({"record": record, "cid": "bafyreiabc"})
    event = {"did": DID, "time_us": 1_796_270_000_000_000, "kind": "commit", "commit": body}
    event.update(extra)
    return json.dumps(event)


def test_a_new_post_with_a_wanted_tag_is_a_remote_post():
    post = jetstream_event(commit(), {"jam"})
    assert isinstance(post, RemotePost)
    assert post.remote_id == f"at://{DID}/app.bsky.feed.post/3n3qfncx2nobe"
    assert post.url == f"https://bsky.app/profile/{DID}/post/3n3qfncx2nobe"
    assert post.author.remote_id == DID
    assert post.text == "Voilà #Jam 🎶"
    assert post.tags == ("jam",)
    assert post.lang == "fr"
    assert post.created_at == datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
    assert post.edited_at is None
    assert jetstream_event(commit().encode(), {"jam"}) == post  # bytes as well as text


def test_an_update_is_the_post_again_with_its_edit_time():
    post = jetstream_event(commit("update"), {"jam"})
    assert isinstance(post, RemotePost)
    assert post.edited_at == datetime.fromtimestamp(1_796_270_000, tz=UTC)


def test_other_tags_collections_and_kinds_are_none():
    assert jetstream_event(commit(), {"other"}) is None
    assert jetstream_event(commit(), set()) is None
    like = json.loads(commit())
    like["commit"]["collection"] = "app.bsky.feed.like"
    assert jetstream_event(json.dumps(like), {"jam"}) is None
    identity = {"did": DID, "time_us": 1, "kind": "identity", "identity": {"handle": "a.test"}}
    assert jetstream_event(json.dumps(identity), {"jam"}) is None


def test_a_delete_is_a_remote_deletion_whatever_the_tags():
    assert jetstream_event(commit("delete"), set()) == RemoteDeletion(
        f"at://{DID}/app.bsky.feed.post/3n3qfncx2nobe"
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", "not JSON"),
        ("{cut", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"kind": "commit", "did": DID}), "without a DID or commit object"),
        (json.dumps({"kind": "commit", "did": 5, "commit": {}}), "without a DID"),
        (commit(record={"text": 5}), "its record is not an app.bsky.feed.post record"),
        (commit(record="text"), "its record is not an app.bsky.feed.post record"),
        (commit(record={**RECORD, "createdAt": "soon"}), "its createdAt 'soon'"),
        (commit("rename"), "unknown operation 'rename'"),
    ],
)
def test_malformed_messages_are_skipped_with_a_reason(raw, reason):
    event = jetstream_event(raw, {"jam"})
    assert isinstance(event, Skipped)
    assert reason in event.reason


def test_the_url_asks_for_posts_from_the_cursor():
    assert jetstream_url("ws://h/subscribe", 42) == (
        "ws://h/subscribe?wantedCollections=app.bsky.feed.post&cursor=42"
    )
    assert jetstream_url("ws://h/subscribe", None).endswith("wantedCollections=app.bsky.feed.post")


# The listener against the server ---------------------------------------------------------


def wait_for(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Listener:
    def __init__(self, bsky: BlueskyEmulator, cursor_us: int | None) -> None:
        self.events: list[tuple[object, int]] = []
        self.stop = threading.Event()
        self.result: list[int | None] = []
        self.thread = threading.Thread(
            target=lambda: self.result.append(
                jetstream_listen(
                    url=bsky.jetstream_url,
                    cursor_us=cursor_us,
                    tags={"jam"},
                    on_event=lambda event, time_us: self.events.append((event, time_us)),
                    stop=self.stop,
                    max_backoff=0.5,
                )
            ),
            daemon=True,
        )
        self.thread.start()

    def of(self, kind: type) -> list:
        return [e for e, _ in self.events if isinstance(e, kind)]


@pytest.fixture
def listen(bsky: BlueskyEmulator) -> Iterator[Callable[[int | None], Listener]]:
    started: list[Listener] = []

    def start(cursor_us: int | None = None) -> Listener:
        listener = Listener(bsky, cursor_us)
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.stop.set()
        listener.thread.join(timeout=5)
        assert not listener.thread.is_alive()


def test_creates_and_deletes_reach_the_listener(bsky, listen):
    alice = bsky.account_add("alice.test")
    listener = listen(None)
    wait_for(lambda: bool(bsky.subscribers))
    bsky.post_add(alice, "no tag")
    uri = bsky.post_add(alice, "Café #jam", tags=["jam"])
    wait_for(lambda: len(listener.of(RemotePost)) == 1)
    assert listener.of(RemotePost)[0].remote_id == uri
    assert listener.of(RemotePost)[0].text == "Café #jam"
    bsky.post_delete(uri)
    wait_for(lambda: listener.of(RemoteDeletion) == [RemoteDeletion(uri)])
    times = [t for _, t in listener.events]
    assert times == sorted(times)


def test_a_cut_connection_resumes_from_the_cursor_without_repeats(bsky, listen):
    alice = bsky.account_add("alice.test")
    listener = listen(None)
    wait_for(lambda: bool(bsky.subscribers))
    first = bsky.post_add(alice, "#jam one", tags=["jam"])
    wait_for(lambda: len(listener.of(RemotePost)) == 1)
    bsky.jetstream_drop()
    second = bsky.post_add(alice, "#jam two", tags=["jam"])  # while it is away
    wait_for(lambda: len(listener.of(RemotePost)) == 2)
    wait_for(lambda: bool(bsky.subscribers))
    third = bsky.post_add(alice, "#jam three", tags=["jam"])
    wait_for(lambda: len(listener.of(RemotePost)) == 3)
    assert [p.remote_id for p in listener.of(RemotePost)] == [first, second, third]
    reconnect = [r for r in bsky.requests if r[1] == "/subscribe"]
    assert reconnect[-1][2]["cursor"] == [str(listener.events[0][1])]
    listener.stop.set()
    listener.thread.join(timeout=5)
    assert listener.result == [listener.events[-1][1]]


def test_a_cursor_replays_what_happened_before(bsky, listen):
    alice = bsky.account_add("alice.test")
    before = bsky.next_us()
    older = bsky.post_add(alice, "#jam earlier", tags=["jam"])
    listener = listen(before)
    wait_for(lambda: len(listener.of(RemotePost)) == 1)
    assert listener.of(RemotePost)[0].remote_id == older


def test_garbage_on_the_stream_is_skipped_and_the_stream_goes_on(bsky, listen):
    alice = bsky.account_add("alice.test")
    listener = listen(None)
    wait_for(lambda: bool(bsky.subscribers))
    bsky.jetstream_inject("{not json")
    bsky.jetstream_inject(json.dumps({"kind": "commit", "did": DID, "commit": {}}))
    uri = bsky.post_add(alice, "#jam after garbage", tags=["jam"])
    wait_for(lambda: len(listener.of(RemotePost)) == 1)
    assert [s.reason for s in listener.of(Skipped)] == [
        "the message is not JSON",
        "a message without time_us",
    ]
    assert listener.of(RemotePost)[0].remote_id == uri


def test_an_unreachable_jetstream_is_retried_until_stopped():
    stop = threading.Event()
    result: list[int | None] = []
    thread = threading.Thread(
        target=lambda: result.append(
            jetstream_listen(
                url="ws://127.0.0.1:9/subscribe",
                cursor_us=7,
                tags={"jam"},
                on_event=lambda e, t: None,
                stop=stop,
                open_timeout=0.5,
                max_backoff=0.2,
            )
        )
    )
    thread.start()
    time.sleep(0.5)
    stop.set()
    thread.join(timeout=5)
    assert result == [None]
