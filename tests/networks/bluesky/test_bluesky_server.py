"""The Bluesky-compatible server's own answers where jamhost's client never goes: what
the PDS refuses and how, the rate-limit headers, and the staging command."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest

from testservers.bluesky.state import BlueskyEmulator

from .conftest import PASSWORD


def xrpc(bsky: BlueskyEmulator, nsid: str, token: str = "", **kwargs) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    method = "POST" if "json" in kwargs else "GET"
    url = f"{bsky.public_url}/xrpc/{nsid}"
    return httpx.request(method, url, headers=headers, timeout=5, **kwargs)


def session(bsky: BlueskyEmulator) -> tuple[str, str]:
    did = bsky.account_add("alice.test")
    access, _ = bsky.session_issue(did)
    return did, access


def create(bsky: BlueskyEmulator, did: str, token: str, record: dict, **extra) -> httpx.Response:
    payload = {"repo": did, "collection": "app.bsky.feed.post", "record": record, **extra}
    return xrpc(bsky, "com.atproto.repo.createRecord", token, json=payload)


def post(text: str, **extra) -> dict:
    return {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": "2026-12-03T04:00:00Z",
        **extra,
    }


def tag_facet(start: int, end: int) -> dict:
    return {
        "index": {"byteStart": start, "byteEnd": end},
        "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "jam"}],
    }


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (post("🎉" * 301), "Record/text must not be longer than 300 graphemes"),
        (post("é #jam", facets=[tag_facet(3, 7)]), None),
        (post("é #jam", facets=[tag_facet(3, 8)]), "is not a byte range within the text's 7 bytes"),
        (post("é #jam", facets=[tag_facet(5, 5)]), "is not a byte range"),
        (post("x", facets=[{"index": {"byteStart": "0", "byteEnd": 1}}]), "must be integers"),
        (post("x", createdAt="yesterday"), "Record/createdAt must be an valid atproto datetime"),
        ({"$type": "app.bsky.feed.like", "subject": {}}, "Invalid $type"),
    ],
)
def test_create_record_checks_the_post_as_the_pds_does(bsky, record, message):
    did, token = session(bsky)
    answer = create(bsky, did, token, record)
    if message is None:
        assert answer.status_code == 200
        return
    assert answer.status_code == 400
    assert answer.json()["error"] == "InvalidRequest"
    assert answer.json()["message"].startswith("Invalid app.bsky.feed.post record: ")
    assert message in answer.json()["message"]
    assert bsky.posts == {}


def test_text_is_also_held_to_3000_utf8_bytes(bsky):
    did, token = session(bsky)
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 1 grapheme, 18 bytes
    assert create(bsky, did, token, post(family * 166)).status_code == 200  # 2988 bytes
    refused = create(bsky, did, token, post(family * 167))  # 167 graphemes, 3006 bytes
    assert refused.status_code == 400
    assert "Record/text must not be longer than 3000 characters" in refused.json()["message"]


@pytest.mark.parametrize(
    ("mode", "status", "error"),
    [("400", 400, "InvalidRequest"), ("409", 409, "RecordAlreadyExists"), ("500", 500, None)],
)
def test_a_taken_record_key_is_answered_as_configured(bsky, mode, status, error):
    bsky.existing_rkey = mode
    did, token = session(bsky)
    assert create(bsky, did, token, post("a"), rkey="3n3qfncx2nobe").status_code == 200
    again = create(bsky, did, token, post("b"), rkey="3n3qfncx2nobe")
    assert again.status_code == status
    if error:
        assert again.json()["error"] == error
        assert "already exists" in again.json()["message"]
    assert [p["record"]["text"] for p in bsky.posts.values()] == ["a"]


def test_tokens_as_the_pds_checks_them(bsky):
    did, token = session(bsky)
    _, refresh = bsky.session_issue(did)
    cases = [
        ("", 401, "AuthenticationRequired"),
        ("made.up.token", 401, "InvalidToken"),
        (refresh, 400, "InvalidToken"),  # a refresh token is not an access token
    ]
    for bearer, status, error in cases:
        answer = create(bsky, did, bearer, post("x"))
        assert (answer.status_code, answer.json()["error"]) == (status, error)
    bsky.advance(7201)
    answer = create(bsky, did, token, post("x"))
    assert answer.status_code == 400
    assert answer.json() == {"error": "ExpiredToken", "message": "Token has expired"}


def test_another_accounts_repo_is_refused(bsky):
    _, token = session(bsky)
    bob = bsky.account_add("bob.test")
    answer = create(bsky, bob, token, post("x"))
    assert answer.status_code == 400
    assert "not the session's" in answer.json()["message"]


def test_rate_headers_count_down_and_429_says_rate_limit_exceeded(bsky):
    bsky.rate_limits["com.atproto.identity.resolveHandle"] = (2, 300)
    bsky.account_add("alice.test")
    answers = [
        xrpc(bsky, "com.atproto.identity.resolveHandle", params={"handle": "alice.test"})
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[2].json()["error"] == "RateLimitExceeded"
    assert answers[2].headers["ratelimit-limit"] == "2"
    assert answers[2].headers["ratelimit-policy"] == "2;w=300"
    reset = int(answers[2].headers["ratelimit-reset"])
    assert 295 <= reset - datetime.now(tz=UTC).timestamp() <= 301


def test_search_parameters_are_checked(bsky):
    assert xrpc(bsky, "app.bsky.feed.searchPosts").json()["message"] == (
        'Error: Params must have the property "q"'
    )
    for params in ({"q": "x", "limit": "101"}, {"q": "x", "since": "soon"}):
        assert xrpc(bsky, "app.bsky.feed.searchPosts", params=params).status_code == 400


def test_an_unknown_method_is_not_implemented(bsky):
    answer = xrpc(bsky, "app.bsky.feed.getTimeline")
    assert (answer.status_code, answer.json()["error"]) == (501, "MethodNotImplemented")


def test_python_m_testservers_bluesky_serves_an_account():
    process = subprocess.Popen(
        [sys.executable, "-m", "testservers.bluesky", "--port", "0", "--handle", "s.test"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        url = line.split(" on ", 1)[1].split(" ", 1)[0]
        answer = httpx.post(
            f"{url}/xrpc/com.atproto.server.createSession",
            json={"identifier": "s.test", "password": "staging-app-password"},
            timeout=5,
        )
        assert answer.status_code == 200
        assert answer.json()["handle"] == "s.test"
    finally:
        process.terminate()
        process.wait(timeout=5)
    assert PASSWORD  # the tests' accounts use another app password than staging's


def test_stop_ends_the_server(bsky):
    url = bsky.public_url
    bsky.stop()
    time.sleep(0.05)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/xrpc/app.bsky.feed.searchPosts", params={"q": "x"}, timeout=1)
