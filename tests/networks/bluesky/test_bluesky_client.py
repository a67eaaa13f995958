"""jamhost's Bluesky client against the Bluesky-compatible server: sessions, publishing
(idempotent by record key), deleting, and what every failure becomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jamhost.networks.bluesky import client
from jamhost.networks.bluesky.posts import post_rkey
from jamhost.networks.remote import (
    Published,
    RemoteExpired,
    RemoteRateLimited,
    RemoteRefused,
    RemoteUnauthorized,
    RemoteUnavailable,
    Session,
)
from testservers.bluesky.state import BlueskyEmulator

from .conftest import PASSWORD


def signed_in(bsky: BlueskyEmulator, handle: str = "alice.test") -> Session:
    if bsky.did_of(handle) is None:
        bsky.account_add(handle, "Alice Example")
    return client.session_create(
        service=bsky.public_url, identifier=handle, app_password=PASSWORD, timeout=2
    )


def publish(bsky: BlueskyEmulator, session: Session, text: str, **kwargs) -> Published:
    created = kwargs.pop("created_at", datetime(2026, 12, 3, 4, 0, tzinfo=UTC))
    rkey = kwargs.pop("rkey", post_rkey(created_at=created, seed=text))
    return client.post_create(
        service=bsky.public_url,
        access_token=session.access_token,
        did=session.remote_id,
        text=text,
        rkey=rkey,
        created_at=created,
        handle=session.handle,
        **{"timeout": 2, **kwargs},
    )


# Sessions ------------------------------------------------------------------------------


def test_session_create_returns_tokens_expiry_and_profile(bsky):
    did = bsky.account_add("alice.test", "Alice Example")
    session = signed_in(bsky)
    assert session.remote_id == did
    assert session.handle == "alice.test"
    assert session.display_name == "Alice Example"
    assert session.avatar_url.startswith("https://cdn.bsky.app/")
    assert session.profile_url == "https://bsky.app/profile/alice.test"
    assert session.service == bsky.public_url
    assert session.expires_at is not None
    lifetime = session.expires_at - datetime.now(tz=UTC)
    assert timedelta(hours=1, minutes=58) < lifetime <= timedelta(hours=2)
    assert session.access_token in bsky.access and session.refresh_token in bsky.refresh


def test_a_wrong_app_password_is_unauthorized(bsky):
    bsky.account_add("alice.test")
    with pytest.raises(RemoteUnauthorized, match="link it again"):
        client.session_create(
            service=bsky.public_url, identifier="alice.test", app_password="nope", timeout=2
        )


def test_an_expired_access_token_is_expired_and_a_refresh_brings_it_back(bsky):
    session = signed_in(bsky)
    bsky.advance(7201)
    with pytest.raises(RemoteExpired):
        publish(bsky, session, "after two hours")
    fresh = client.session_refresh(
        service=bsky.public_url, refresh_token=session.refresh_token, timeout=2
    )
    assert fresh.remote_id == session.remote_id
    assert fresh.access_token != session.access_token
    assert fresh.refresh_token != session.refresh_token  # rotated
    assert publish(bsky, fresh, "after a refresh").remote_id.startswith("at://")


def test_a_used_refresh_token_is_unauthorized_not_expired(bsky):
    session = signed_in(bsky)
    client.session_refresh(service=bsky.public_url, refresh_token=session.refresh_token)
    with pytest.raises(RemoteUnauthorized) as caught:
        client.session_refresh(service=bsky.public_url, refresh_token=session.refresh_token)
    assert not isinstance(caught.value, RemoteExpired)


def test_revoked_tokens_are_unauthorized(bsky):
    session = signed_in(bsky)
    bsky.tokens_revoke(session.remote_id)
    with pytest.raises(RemoteUnauthorized) as caught:
        publish(bsky, session, "revoked")
    assert not isinstance(caught.value, RemoteExpired)


def test_profile_and_handles(bsky):
    did = bsky.account_add("bob.test", "Bob")
    author = client.profile_get(appview=bsky.public_url, token="", actor="bob.test")
    assert (author.remote_id, author.handle, author.display_name) == (did, "bob.test", "Bob")
    assert client.handle_resolve(service=bsky.public_url, handle="bob.test") == did
    assert client.handle_resolve(service=bsky.public_url, handle="nobody.test") is None
    with pytest.raises(RemoteRefused, match="Profile not found"):
        client.profile_get(appview=bsky.public_url, token="", actor="nobody.test")


# Publishing ----------------------------------------------------------------------------


def test_post_create_stores_the_record_with_facets_and_answers_the_bsky_app_link(bsky):
    bob = bsky.account_add("bob.test")
    session = signed_in(bsky)
    text = "Crème brûlée 🍮 with @bob.test at #JamHost https://jam.example/j/1"
    created = datetime(2026, 12, 3, 4, 5, 6, 789000, tzinfo=UTC)
    rkey = post_rkey(created_at=created, seed="delivery-1")
    published = publish(bsky, session, text, created_at=created, rkey=rkey, langs=("fr",))
    uri = f"at://{session.remote_id}/app.bsky.feed.post/{rkey}"
    assert published == Published(uri, f"https://bsky.app/profile/alice.test/post/{rkey}")
    record = bsky.posts[uri]["record"]
    assert record["text"] == text
    assert record["createdAt"] == "2026-12-03T04:05:06.789Z"
    assert record["langs"] == ["fr"]
    raw = text.encode()
    covered = {
        raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]
        for f in record["facets"]
    }
    assert covered["@bob.test"]["did"] == bob
    assert covered["#JamHost"]["tag"] == "JamHost"
    assert covered["https://jam.example/j/1"]["uri"] == "https://jam.example/j/1"


def test_post_rkey_is_a_deterministic_tid():
    when = datetime(2026, 12, 3, 4, 5, 6, tzinfo=UTC)
    first = post_rkey(created_at=when, seed="delivery-1")
    assert first == post_rkey(created_at=when, seed="delivery-1")
    assert first != post_rkey(created_at=when, seed="delivery-2")
    assert first < post_rkey(created_at=when + timedelta(seconds=1), seed="delivery-1")
    assert len(first) == 13 and first[0] in "234567abcdefghij"


def test_a_reply_names_its_parent_and_root(bsky):
    session = signed_in(bsky)
    root = publish(bsky, session, "root")
    parent_uri = root.remote_id
    cid = bsky.posts[parent_uri]["cid"]
    reply = publish(bsky, session, "a reply", reply_to=(parent_uri, cid))
    stored = bsky.posts[reply.remote_id]["record"]["reply"]
    for part in ("root", "parent"):
        assert (stored[part]["uri"], stored[part]["cid"]) == (parent_uri, cid)


@pytest.mark.parametrize("mode", ["400", "409", "500"])
def test_resending_the_same_rkey_is_published_once(bsky, mode):
    bsky.existing_rkey = mode
    session = signed_in(bsky)
    first = publish(bsky, session, "once only #jam")
    again = publish(bsky, session, "once only #jam")
    assert again == first
    assert len(bsky.posts) == 1
    assert len(bsky.requests_to("com.atproto.repo.createRecord")) == 2


@pytest.mark.parametrize("kind", ["drop_after_create", "502_after_create"])
def test_a_create_whose_answer_is_lost_is_found_published(bsky, kind):
    session = signed_in(bsky)
    bsky.fault_next("com.atproto.repo.createRecord", kind)
    published = publish(bsky, session, "stored, answer lost")
    assert published.remote_id in bsky.posts
    assert len(bsky.requests_to("com.atproto.repo.getRecord")) == 1


def test_a_create_answered_too_late_is_found_published(bsky):
    session = signed_in(bsky)
    bsky.fault_next("com.atproto.repo.createRecord", "slow_after_create", delay=1.5)
    published = publish(bsky, session, "slow", timeout=0.5)
    assert published.remote_id in bsky.posts


def test_a_create_that_failed_before_storing_is_unavailable(bsky):
    session = signed_in(bsky)
    bsky.fault_next("com.atproto.repo.createRecord", "502")
    with pytest.raises(RemoteUnavailable, match="502"):
        publish(bsky, session, "not stored")
    assert bsky.posts == {}
    assert publish(bsky, session, "not stored").remote_id in bsky.posts  # the resend


def test_301_graphemes_are_refused_with_the_servers_reason(bsky):
    session = signed_in(bsky)
    publish(bsky, session, "é" * 300)
    with pytest.raises(RemoteRefused) as caught:
        publish(bsky, session, "é" * 301)
    assert caught.value.reason == (
        "Bluesky refused publishing the post: Invalid app.bsky.feed.post record: "
        "Record/text must not be longer than 300 graphemes."
    )


def test_an_rkey_that_is_not_a_tid_is_refused(bsky):
    session = signed_in(bsky)
    with pytest.raises(RemoteRefused, match="must be a TID"):
        publish(bsky, session, "hello", rkey="not-a-tid")


def test_post_delete_removes_the_post_and_is_idempotent(bsky):
    session = signed_in(bsky)
    published = publish(bsky, session, "to delete")
    for _ in range(2):
        client.post_delete(
            service=bsky.public_url,
            access_token=session.access_token,
            remote_id=published.remote_id,
        )
    assert published.remote_id not in bsky.posts
    with pytest.raises(RemoteRefused, match="not the at:// URI"):
        client.post_delete(service=bsky.public_url, access_token="x", remote_id="https://x")


# Failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "error", "reason"),
    [
        ("500", {}, RemoteUnavailable, "answered 500"),
        ("502", {}, RemoteUnavailable, "answered 502"),
        ("503", {}, RemoteUnavailable, "answered 503"),
        ("malformed", {}, RemoteUnavailable, "cannot read"),
        ("drop", {}, RemoteUnavailable, "could not be reached"),
        ("slow", {"delay": 1.5}, RemoteUnavailable, "within 0.5 s"),
        ("429", {"reset_in": 120}, RemoteRateLimited, "rate limit"),
        ("raw", {"status": 200, "body": b"<html>ok</html>"}, RemoteUnavailable, "cannot read"),
        ("raw", {"status": 200, "body": None}, RemoteUnavailable, "cannot read"),
        ("raw", {"status": 200, "body": [1, 2]}, RemoteUnavailable, "cannot read"),
        ("raw", {"status": 404, "body": b"not found"}, RemoteRefused, "answered 404"),
        (
            "raw",
            {"status": 400, "body": {"error": "InvalidRequest", "message": "No."}},
            RemoteRefused,
            ": No.",
        ),
        ("raw", {"status": 401, "body": b""}, RemoteUnauthorized, "link it again"),
    ],
)
def test_failures_become_the_contract_errors(bsky, kind, options, error, reason):
    did = bsky.account_add("carol.test")
    for path in ("app.bsky.actor.getProfile", "app.bsky.feed.searchPosts"):
        bsky.fault_next(path, kind, **options)
    with pytest.raises(error, match=reason):
        client.profile_get(appview=bsky.public_url, token="", actor=did, timeout=0.5)
    with pytest.raises(error, match=reason):
        client.search_tag(appview=bsky.public_url, token="", tag="jam", timeout=0.5)


def test_a_429_says_when_the_window_resets(bsky):
    bsky.rate_limits["app.bsky.feed.searchPosts"] = (2, 300)
    for _ in range(2):
        client.search_tag(appview=bsky.public_url, token="", tag="jam")
    with pytest.raises(RemoteRateLimited) as caught:
        client.search_tag(appview=bsky.public_url, token="", tag="jam")
    window_end = datetime.now(tz=UTC) + timedelta(seconds=300)
    assert abs((caught.value.reset_at - window_end).total_seconds()) < 3


GARBAGE = [
    b"{}",
    b"null",
    b'{"did": 5, "handle": [], "accessJwt": null}',
    b'{"uri": "at://x", "cid": 7}',
    b"\xff\xfe not json",
    b'"a string"',
]


@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_from_every_call_is_unavailable(bsky, body):
    session = signed_in(bsky)
    calls = {
        "com.atproto.server.createSession": lambda: client.session_create(
            service=bsky.public_url, identifier="alice.test", app_password=PASSWORD
        ),
        "com.atproto.server.refreshSession": lambda: client.session_refresh(
            service=bsky.public_url, refresh_token=session.refresh_token
        ),
        "com.atproto.repo.createRecord": lambda: publish(bsky, session, "garbage answer"),
        "com.atproto.identity.resolveHandle": lambda: client.handle_resolve(
            service=bsky.public_url, handle="alice.test"
        ),
    }
    for nsid, run in calls.items():
        bsky.fault_next(nsid, "raw", body=body)  # sent as application/json
        with pytest.raises(RemoteUnavailable, match="cannot read"):
            run()
    assert bsky.posts == {}


def test_a_search_with_an_expired_token_is_expired(bsky):
    session = signed_in(bsky)
    bsky.tokens_expire(session.remote_id)
    with pytest.raises(RemoteExpired):
        client.search_tag(appview=bsky.public_url, token=session.access_token, tag="jam")
