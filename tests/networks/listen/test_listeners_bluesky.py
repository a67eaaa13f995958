"""Jetstream into the jams: posts stored without a search, deletions, a cut connection and
a restart resuming from the saved position, garbage on the stream."""

from __future__ import annotations

import json
import logging
import time

import pytest

from jamhost.networks import listeners
from jamhost.networks.listeners import REWIND_US
from jamhost.networks.models import Network, NetworkCursor
from jamhost.posts.models import Post, PostStatus
from tests.factories import live_jam
from tests.networks.listen.support import route_add, stored, wait_for
from testservers.bluesky.wire import cid_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]
BSKY = Network.BLUESKY


def bluesky_jam():  # type: ignore[no-untyped-def]
    jam = live_jam()
    return jam, route_add(jam, BSKY), jam.hashtag.lower()


def subscriptions(bsky) -> list[dict]:  # type: ignore[no-untyped-def]
    return [r[2] for r in list(bsky.requests) if r[1] == "/subscribe"]


def position(route) -> str:  # type: ignore[no-untyped-def]
    return NetworkCursor.objects.get(route=route).stream_position


def test_a_post_reaches_the_jam_through_jetstream_and_its_deletion_hides_it(bsky, supervisor):
    jam, route, tag = bluesky_jam()
    alice = bsky.account_add("alice.test", "Alice Example")
    supervisor()
    wait_for(lambda: bool(bsky.subscribers))
    bsky.post_add(alice, "Elsewhere #other", tags=["other"])
    uri = bsky.post_add(alice, f"A1: live from Bluesky #{tag}", tags=[tag])
    time_us = bsky.events[-1][0]
    wait_for(lambda: len(stored(jam, BSKY, uri)) == 1)
    post = stored(jam, BSKY, uri)[0]
    assert post.text == f"A1: live from Bluesky #{tag}"
    assert (post.author_handle, post.author_name) == ("alice.test", "Alice Example")
    assert post.question is not None and post.question.number == 1
    assert Post.objects.filter(jam=jam, source=BSKY).count() == 1
    assert bsky.requests_to("app.bsky.feed.searchPosts") == []  # no poll ran
    wait_for(lambda: position(route) == str(time_us))  # saved once it is stored

    bsky.post_delete(uri)
    wait_for(lambda: stored(jam, BSKY, uri)[0].status == PostStatus.HIDDEN)
    post = stored(jam, BSKY, uri)[0]
    assert (post.text, post.body) == ("", "")
    assert post.status_reason == "deleted on Bluesky by its author"


def test_a_post_with_two_jams_tags_is_in_both_and_its_deletion_leaves_both(bsky, supervisor):
    first, _, first_tag = bluesky_jam()
    second, _, second_tag = bluesky_jam()
    alice = bsky.account_add("alice.test")
    supervisor()
    wait_for(lambda: bool(bsky.subscribers))
    uri = bsky.post_add(alice, f"Both #{first_tag} #{second_tag}", tags=[first_tag, second_tag])
    wait_for(lambda: len(stored(first, BSKY, uri)) == len(stored(second, BSKY, uri)) == 1)
    bsky.post_delete(uri)
    wait_for(
        lambda: all(
            stored(jam, BSKY, uri)[0].status == PostStatus.HIDDEN for jam in (first, second)
        )
    )


def test_a_cut_connection_reconnects_from_the_cursor_losing_and_repeating_nothing(bsky, supervisor):
    jam, _, tag = bluesky_jam()
    alice = bsky.account_add("alice.test")
    supervisor()
    wait_for(lambda: bool(bsky.subscribers))
    first = bsky.post_add(alice, f"one #{tag}", tags=[tag])
    first_us = bsky.events[-1][0]
    wait_for(lambda: len(stored(jam, BSKY, first)) == 1)
    bsky.jetstream_drop()
    second = bsky.post_add(alice, f"two, while it is away #{tag}", tags=[tag])
    wait_for(lambda: len(subscriptions(bsky)) == 2 and bool(bsky.subscribers))
    third = bsky.post_add(alice, f"three #{tag}", tags=[tag])
    wait_for(lambda: Post.objects.filter(jam=jam, source=BSKY).count() == 3)
    for uri in (first, second, third):
        assert len(stored(jam, BSKY, uri)) == 1
    assert subscriptions(bsky)[-1]["cursor"] == [str(first_us)]


def test_a_restart_resumes_from_the_saved_position(bsky, supervisor):
    jam, route, tag = bluesky_jam()
    alice = bsky.account_add("alice.test")
    running = supervisor()
    wait_for(lambda: bool(bsky.subscribers))
    assert "cursor" not in subscriptions(bsky)[0]  # nothing saved yet: from now
    first = bsky.post_add(alice, f"before the restart #{tag}", tags=[tag])
    wait_for(lambda: len(stored(jam, BSKY, first)) == 1)
    running.end()
    saved = position(route)
    assert saved == str(bsky.events[-1][0])
    second = bsky.post_add(alice, f"while nobody listens #{tag}", tags=[tag])

    supervisor()
    wait_for(lambda: len(stored(jam, BSKY, second)) == 1)
    assert subscriptions(bsky)[-1]["cursor"] == [str(int(saved) - REWIND_US)]
    assert len(stored(jam, BSKY, first)) == 1  # replayed by the rewind, stored once
    assert Post.objects.filter(jam=jam, source=BSKY).count() == 2


def test_garbage_on_the_stream_is_logged_and_later_posts_still_arrive(bsky, supervisor, caplog):
    caplog.set_level(logging.INFO, logger="jamhost.networks.listeners")
    jam, _, tag = bluesky_jam()
    alice = bsky.account_add("alice.test")
    supervisor()
    wait_for(lambda: bool(bsky.subscribers))
    bsky.jetstream_inject("{not json")
    bsky.jetstream_inject(json.dumps({"kind": "commit", "did": alice, "commit": {}}))
    broken = {
        "did": alice,
        "time_us": bsky.next_us(),
        "kind": "commit",
        "commit": {
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": "3n3qfncx2nobe",
            "record": {"text": 5},
        },
    }
    bsky.jetstream_inject(json.dumps(broken))
    uri = bsky.post_add(alice, f"after the garbage #{tag}", tags=[tag])
    wait_for(lambda: len(stored(jam, BSKY, uri)) == 1)
    logged = caplog.text
    assert "skipped a message: the message is not JSON" in logged
    assert "skipped a message: a message without time_us" in logged
    assert "its record is not an app.bsky.feed.post record" in logged
    assert Post.objects.filter(jam=jam, source=BSKY).count() == 1


def test_an_edit_over_jetstream_updates_the_post_in_place(bsky, supervisor):
    jam, _, tag = bluesky_jam()
    alice = bsky.account_add("alice.test")
    supervisor()
    wait_for(lambda: bool(bsky.subscribers))
    uri = bsky.post_add(alice, f"A1: first words #{tag}", tags=[tag])
    wait_for(lambda: len(stored(jam, BSKY, uri)) == 1)
    seq = stored(jam, BSKY, uri)[0].seq
    with bsky.lock:
        post = bsky.posts[uri]
        record = {**post["record"], "text": f"A1: better words #{tag}"}
        record["facets"][0]["index"] = {
            "byteStart": record["text"].index("#"),
            "byteEnd": len(record["text"].encode()),
        }
        post["record"] = record
    bsky.event_add(
        {
            "did": alice,
            "time_us": bsky.next_us(),
            "kind": "commit",
            "commit": {
                "rev": "3n3qfncx2no2c",
                "operation": "update",
                "collection": "app.bsky.feed.post",
                "rkey": post["rkey"],
                "record": record,
                "cid": cid_for(record),
            },
        }
    )
    wait_for(lambda: stored(jam, BSKY, uri)[0].text == f"A1: better words #{tag}")
    edited = stored(jam, BSKY, uri)[0]
    assert (edited.seq, edited.edited_at is not None) == (seq, True)
    assert Post.objects.filter(jam=jam, source=BSKY).count() == 1


def test_an_appview_that_fails_costs_one_lookup_per_pause_not_one_per_author(
    bsky, supervisor, monkeypatch
):
    monkeypatch.setattr(listeners, "PROFILE_PAUSE", 1.5)
    jam, _, tag = bluesky_jam()
    alice = bsky.account_add("alice.test", "Alice Example")
    bob = bsky.account_add("bob.test", "Bob Example")
    supervisor()
    wait_for(lambda: bool(bsky.subscribers))
    bsky.fault_next("app.bsky.actor.getProfile", "503")
    first = bsky.post_add(alice, f"while the AppView is down #{tag}", tags=[tag])
    second = bsky.post_add(bob, f"also while it is down #{tag}", tags=[tag])
    wait_for(lambda: len(stored(jam, BSKY, second)) == 1)

    # Both stored at once, by DID: one look-up failed, the second author was not looked up.
    assert stored(jam, BSKY, first)[0].author_handle == alice[:80]
    assert stored(jam, BSKY, second)[0].author_handle == bob[:80]
    assert len(bsky.requests_to("app.bsky.actor.getProfile")) == 1

    # After the pause the AppView is asked again, and a failed author is not kept as a DID.
    time.sleep(1.6)
    third = bsky.post_add(alice, f"back again #{tag}", tags=[tag])
    wait_for(lambda: len(stored(jam, BSKY, third)) == 1)
    assert stored(jam, BSKY, third)[0].author_handle == "alice.test"
