"""The Mastodon-compatible server itself: Mastodon.py (with its version check) against it,
its answers against the documented entities, and the behaviours tests rely on."""

from __future__ import annotations

import time
import warnings
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from mastodon import Mastodon, MastodonIllegalArgumentError, StreamListener
from mastodon_entities import entity_problems, status_problems, validate_answer

from testservers.mastodon.state import MastodonEmulator
from testservers.mastodon.wire import Fault, status_html, status_length

REDIRECT = "https://jamhost.example/accounts/mastodon/callback/"


def _get(masto: MastodonEmulator, path: str, token: str = "", **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(masto.base_url + path, params=params, headers=headers, timeout=5)


def _post(masto: MastodonEmulator, token: str, text: str, key: str = "") -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return requests.post(
        masto.base_url + "/api/v1/statuses", data={"status": text}, headers=headers, timeout=5
    )


def test_mastodon_py_signs_in_and_checks_the_version(masto: MastodonEmulator) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Mastodon.py warns about servers it finds odd
        client_id, secret = Mastodon.create_app(
            "jamhost", redirect_uris=REDIRECT, api_base_url=masto.base_url, request_timeout=5
        )
        api = Mastodon(
            client_id=client_id,
            client_secret=secret,
            api_base_url=masto.base_url,
            version_check_mode="created",
            request_timeout=5,
        )
        assert api.retrieve_mastodon_version() == "4.5.0"
        assert api.mastodon_api_version == 7
        consent = requests.get(
            api.auth_request_url(redirect_uris=REDIRECT, state="s1"),
            allow_redirects=False,
            timeout=5,
        )
        assert consent.status_code == 302
        back = parse_qs(urlsplit(consent.headers["Location"]).query)
        assert back["state"] == ["s1"]
        token = api.log_in(code=back["code"][0], redirect_uri=REDIRECT, allow_http=True)
        assert token
        assert api.account_verify_credentials().acct == "alice"
        posted = api.status_post("Hello #Jam", idempotency_key="one")
        assert api.timeline_hashtag("jam")[0].id == posted.id
        with pytest.raises(MastodonIllegalArgumentError, match="invalid_grant"):
            api.log_in(code=back["code"][0], redirect_uri=REDIRECT, allow_http=True)  # used


def test_every_entity_has_its_documented_attributes(masto: MastodonEmulator, token: str) -> None:
    bob = masto.account_add("bob", "Bob", domain="remote.example")
    first = masto.status_add(bob, "Question for @alice and @carol@elsewhere.example #Jam")
    masto.status_boost(masto.consenting_user, first)
    masto.status_add(masto.consenting_user, "An answer", in_reply_to_id=first)
    bodies = {
        "instance_v1": _get(masto, "/api/v1/instance").json(),
        "instance_v2": _get(masto, "/api/v2/instance").json(),
        "verify_credentials": _get(masto, "/api/v1/accounts/verify_credentials", token).json(),
        "tag_timeline": _get(masto, "/api/v1/timelines/tag/jam").json(),
    }
    for route, body in bodies.items():
        validate_answer("GET", route, 200, body)
    assert len(bodies["tag_timeline"]) == 2  # the status and its boost
    assert not masto.validation_errors


def test_the_entity_check_finds_a_missing_or_null_attribute(masto: MastodonEmulator) -> None:
    sid = masto.status_add(masto.consenting_user, "Hello #jam")
    status = _get(masto, f"/api/v1/statuses/{sid}").json()
    assert status_problems(status) == []
    del status["uri"]
    status["account"]["acct"] = None
    status["sensitive"] = "no"
    assert set(status_problems(status)) == {
        "Status.uri is missing",
        "Account.acct is null",
        "Status.sensitive is not Boolean",
    }
    instance = _get(masto, "/api/v2/instance").json()
    del instance["configuration"]["statuses"]["max_characters"]
    assert entity_problems("Instance", instance) == [
        "Instance.configuration/statuses/max_characters is missing"
    ]


def test_content_is_html_as_mastodon_renders_it() -> None:
    html = status_html(
        "Tom & Jerry's <b>\n\nsee https://www.example.com/a/long/path/to/somewhere/far #Jam @bob",
        "https://m.example",
        "m.example",
    )
    assert html.startswith("<p>Tom &amp; Jerry&#x27;s &lt;b&gt;</p><p>see <a href=")
    assert '<span class="invisible">https://www.</span>' in html
    assert '<span class="ellipsis">example.com/a/long/path/to/som</span>' in html
    assert 'class="mention hashtag" rel="tag">#<span>Jam</span></a>' in html
    assert 'class="u-url mention">@<span>bob</span></a>' in html
    assert status_length("@bob@far.example https://example.com/" + "x" * 80, 23) == 4 + 1 + 23


def test_idempotency_key_returns_the_same_status_within_the_hour(
    masto: MastodonEmulator, token: str
) -> None:
    first = _post(masto, token, "Hello", key="k1").json()
    again = _post(masto, token, "Hello, edited before resending", key="k1").json()
    assert again["id"] == first["id"]
    masto.advance(3601)
    assert _post(masto, token, "Hello", key="k1").json()["id"] != first["id"]
    assert len(masto.statuses) == 2


def test_refusals_carry_mastodons_messages(masto: MastodonEmulator, token: str) -> None:
    masto.banned_words = ["spoon"]
    too_long = _post(masto, token, "x" * 501)
    assert (too_long.status_code, too_long.json()) == (
        422,
        {"error": "Validation failed: Text character limit of 500 exceeded"},
    )
    assert _post(masto, token, "https://example.com/" + "x" * 600).status_code == 200
    banned = _post(masto, token, "A SPOON!")
    assert banned.status_code == 422 and banned.json()["error"] == masto.banned_message
    masto.tokens_revoke()
    revoked = _post(masto, token, "Hello")
    assert (revoked.status_code, revoked.json()) == (401, {"error": "The access token was revoked"})


def test_tag_timeline_pages_with_link_headers_and_min_id(masto: MastodonEmulator) -> None:
    ids = [masto.status_add(masto.consenting_user, f"#jam {n}") for n in range(5)]
    newest = _get(masto, "/api/v1/timelines/tag/jam", limit=2)
    assert [s["id"] for s in newest.json()] == [ids[4], ids[3]]
    assert f'max_id={ids[3]}>; rel="next"' in newest.headers["Link"]
    assert f'min_id={ids[4]}>; rel="prev"' in newest.headers["Link"]
    # min_id: the page just newer than it, not the newest page.
    assert [
        s["id"] for s in _get(masto, "/api/v1/timelines/tag/jam", min_id=ids[0], limit=2).json()
    ] == [
        ids[2],
        ids[1],
    ]
    assert [
        s["id"] for s in _get(masto, "/api/v1/timelines/tag/jam", since_id=ids[0], limit=2).json()
    ] == [
        ids[4],
        ids[3],
    ]
    assert [s["id"] for s in _get(masto, "/api/v1/timelines/tag/jam", max_id=ids[2]).json()] == [
        ids[1],
        ids[0],
    ]


def test_timeline_lag_and_rate_limits(masto: MastodonEmulator) -> None:
    masto.timeline_lag, masto.rate_limit = 30, 3
    masto.status_add(masto.consenting_user, "#jam late")
    first = _get(masto, "/api/v1/timelines/tag/jam")
    assert first.json() == []
    assert first.headers["X-RateLimit-Limit"] == "3"
    assert first.headers["X-RateLimit-Remaining"] == "2"
    masto.advance(31)
    assert len(_get(masto, "/api/v1/timelines/tag/jam").json()) == 1
    _get(masto, "/api/v1/timelines/tag/jam")
    limited = _get(masto, "/api/v1/timelines/tag/jam")
    assert limited.status_code == 429 and limited.headers["X-RateLimit-Remaining"] == "0"


def test_a_create_whose_answer_is_lost_is_stored(masto: MastodonEmulator, token: str) -> None:
    masto.fault_next("/api/v1/statuses", Fault("drop_after_create"))
    with pytest.raises(requests.ConnectionError):
        _post(masto, token, "Hello", key="lost")
    assert len(masto.statuses) == 1
    assert _post(masto, token, "Hello", key="lost").json()["id"] == str(next(iter(masto.statuses)))


@pytest.mark.timeout(20)
def test_hashtag_stream_sends_server_sent_events(masto: MastodonEmulator) -> None:
    with requests.get(
        masto.base_url + "/api/v1/streaming",
        params={"stream": "hashtag", "tag": "Jam"},
        stream=True,
        timeout=5,
    ) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        sid = masto.status_add(masto.consenting_user, "#jam live")
        masto.status_add(masto.consenting_user, "#other not ours")
        masto.status_edit(sid, "#jam live, edited")
        masto.status_remove(sid)
        received = b""
        for chunk in stream.iter_content(chunk_size=None):
            received += chunk
            if b"event: delete" in received:
                break
    text = received.decode()
    assert text.count("event: update\n") == 1 and "not ours" not in text
    assert "event: status.update\n" in text and "edited" in text
    assert f"event: delete\ndata: {sid}\n\n" in text


class _Heard(StreamListener):
    def __init__(self) -> None:
        self.heard: list[tuple[str, str]] = []

    def on_update(self, status: Any) -> None:
        self.heard.append(("update", str(status.id)))

    def on_status_update(self, status: Any) -> None:
        self.heard.append(("status.update", str(status.id)))

    def on_delete(self, status_id: Any) -> None:
        self.heard.append(("delete", str(status_id)))


@pytest.mark.timeout(20)
def test_mastodon_py_streams_a_hashtag(masto: MastodonEmulator, token: str) -> None:
    api = Mastodon(access_token=token, api_base_url=masto.base_url, request_timeout=5)
    listener = _Heard()
    handle = api.stream_hashtag("jam", listener, run_async=True)
    try:
        deadline = time.monotonic() + 10
        while masto.streams_open < 1:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        sid = masto.status_add(masto.consenting_user, "Live #Jam")
        masto.status_edit(sid, "Live, edited #jam")
        masto.status_remove(sid)
        while len(listener.heard) < 3:
            assert time.monotonic() < deadline, listener.heard
            time.sleep(0.02)
    finally:
        handle.close()
    assert listener.heard == [("update", sid), ("status.update", sid), ("delete", sid)]
