"""networks.mastodon.client against the Mastodon-compatible server: signing in, the
instance's rules, posting (idempotent resends), deleting, the tag timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from jamhost.networks.mastodon import client
from jamhost.networks.mastodon.statuses import status_ref
from jamhost.networks.remote import (
    Published,
    RemoteRateLimited,
    RemoteRefused,
    RemoteUnauthorized,
    RemoteUnavailable,
    Session,
    TextRules,
)
from testservers.mastodon.state import MastodonEmulator
from testservers.mastodon.wire import Fault

REDIRECT = "https://jamhost.example/accounts/mastodon/callback/"


def test_sign_in_from_app_registration_to_session(masto: MastodonEmulator) -> None:
    client_id, secret = client.app_register(masto.base_url, REDIRECT)
    assert masto.apps[client_id]["client_secret"] == secret
    assert masto.apps[client_id]["redirect_uris"] == [REDIRECT]
    url = client.authorize_url(masto.base_url, client_id, REDIRECT, "state-1")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(masto.base_url + "/oauth/authorize?")
    assert query["state"] == ["state-1"] and query["scope"] == ["read write"]
    assert "lang" not in query and "force_login" not in query
    assert query["redirect_uri"] == [REDIRECT] and query["response_type"] == ["code"]
    consent = requests.get(url, allow_redirects=False, timeout=5)
    back = parse_qs(urlsplit(consent.headers["Location"]).query)
    assert back["state"] == ["state-1"]
    session = client.token_exchange(masto.base_url, client_id, secret, back["code"][0], REDIRECT)
    host = urlsplit(masto.base_url).netloc
    assert session == Session(
        remote_id=f"{masto.base_url}/users/alice",
        handle=f"alice@{host}",
        access_token=session.access_token,
        display_name="Alice Example",
        avatar_url=session.avatar_url,
        profile_url=f"{masto.base_url}/@alice",
        service=masto.base_url,
    )
    assert masto.token_account(session.access_token) == (masto.consenting_user, "")
    with pytest.raises(RemoteRefused, match="invalid_grant"):  # a code works once
        client.token_exchange(masto.base_url, client_id, secret, back["code"][0], REDIRECT)
    with pytest.raises(RemoteUnauthorized, match="invalid_client"):
        client.token_exchange(masto.base_url, client_id, "wrong", back["code"][0], REDIRECT)


def test_app_registration_refused_or_unreachable(masto: MastodonEmulator) -> None:
    with pytest.raises(RemoteRefused, match="Redirect URI can't be blank"):
        client.app_register(masto.base_url, "")
    masto.fault_next("/api/v1/apps", Fault("502"))
    with pytest.raises(RemoteUnavailable, match="answered 502"):
        client.app_register(masto.base_url, REDIRECT)
    with pytest.raises(RemoteUnavailable, match="could not reach"):
        client.app_register("http://127.0.0.1:9", REDIRECT)
    for wrong in ("ftp://mastodon.example", "   ", "two words.example", "me@mastodon.example"):
        with pytest.raises(RemoteRefused, match="is not a Mastodon server's address"):
            client.app_register(wrong, REDIRECT)


def test_instance_rules_from_v2_then_v1_then_defaults(masto: MastodonEmulator) -> None:
    assert client.instance_rules(masto.base_url) == TextRules(500, "characters, links count 23")
    masto.max_characters, masto.url_weight = 5000, 30
    assert client.instance_rules(masto.base_url) == TextRules(5000, "characters, links count 30")
    masto.fault_next("/api/v2/instance", Fault("raw", status=404, body={"error": "Not Found"}))
    masto.max_characters = 1000
    assert client.instance_rules(masto.base_url).limit == 1000  # from v1
    for path in ("/api/v2/instance", "/api/v1/instance"):
        masto.fault_next(path, Fault("raw", status=404, body={"error": "Not Found"}))
    assert client.instance_rules(masto.base_url) == TextRules(500, "characters, links count 23")
    for path in ("/api/v2/instance", "/api/v1/instance"):  # a server that wants a signed-in reader
        masto.fault_next(
            path,
            Fault("raw", status=401, body={"error": "This API requires an authenticated user"}),
        )
    assert client.instance_rules(masto.base_url).limit == 500
    masto.fault_next("/api/v2/instance", Fault("503"))
    with pytest.raises(RemoteUnavailable):
        client.instance_rules(masto.base_url)


def test_status_post_publishes_and_replies(masto: MastodonEmulator, token: str) -> None:
    published = client.status_post(masto.base_url, token, "Hello #Jam & co", "key-1")
    sid = published.remote_id.rsplit("/", 1)[1]
    assert published == Published(
        remote_id=f"{masto.base_url}/users/alice/statuses/{sid}",
        url=f"{masto.base_url}/@alice/{sid}",
    )
    assert masto.statuses[int(sid)]["text"] == "Hello #Jam & co"
    bob = masto.account_add("bob", domain="far.example")
    theirs = masto.status_add(bob, "A question #jam")
    their_uri = f"https://far.example/users/bob/statuses/{theirs}"
    for reference in (published.remote_id, their_uri, theirs):
        reply = client.status_post(masto.base_url, token, "An answer", f"r-{reference}", reference)
        stored = masto.statuses[int(reply.remote_id.rsplit("/", 1)[1])]
        assert stored["in_reply_to_id"] == (sid if reference == published.remote_id else theirs)
    # A status the instance cannot find, or deleted since (404 "…does not appear to
    # exist"), leaves the new one standing on its own.
    masto.status_remove(theirs)
    for gone in ("https://nowhere.example/s/1", theirs):
        alone = client.status_post(masto.base_url, token, "On its own", f"k-{gone}", gone)
        assert masto.statuses[int(alone.remote_id.rsplit("/", 1)[1])]["in_reply_to_id"] is None


def test_a_resend_after_a_lost_answer_returns_the_stored_status(
    masto: MastodonEmulator, token: str
) -> None:
    for fault in ("drop_after_create", "503_after_create"):
        masto.fault_next("/api/v1/statuses", Fault(fault))
        with pytest.raises(RemoteUnavailable):
            client.status_post(masto.base_url, token, f"Once only {fault}", fault)
        resent = client.status_post(masto.base_url, token, f"Once only {fault}", fault)
        stored = [s for s in masto.statuses.values() if s["text"] == f"Once only {fault}"]
        assert len(stored) == 1
        assert resent.remote_id.endswith(f"/statuses/{stored[0]['id']}")


def test_status_post_refusals_keep_the_instances_words(masto: MastodonEmulator, token: str) -> None:
    with pytest.raises(RemoteRefused) as refused:
        client.status_post(masto.base_url, token, "x" * 501, "long")
    assert refused.value.reason == "Validation failed: Text character limit of 500 exceeded"
    assert client.status_post(masto.base_url, token, "x" * 476 + " https://e.com/" + "y" * 99, "k")
    masto.banned_words, masto.banned_message = ["spoon"], "Validation failed: no spoons here"
    with pytest.raises(RemoteRefused) as banned:
        client.status_post(masto.base_url, token, "A spoon", "banned")
    assert banned.value.reason == "Validation failed: no spoons here"
    masto.tokens_revoke()
    with pytest.raises(RemoteUnauthorized, match="The access token was revoked"):
        client.status_post(masto.base_url, token, "Hello", "revoked")
    with pytest.raises(RemoteUnauthorized):
        client.tag_page(masto.base_url, token, "jam", None)
    with pytest.raises(RemoteUnauthorized):
        client.status_delete(masto.base_url, token, "1")


def test_rate_limits_and_faults_become_contract_errors(masto: MastodonEmulator, token: str) -> None:
    masto.fault_next("/api/v1/statuses", Fault("429", reset_in=120))
    with pytest.raises(RemoteRateLimited) as limited:
        client.status_post(masto.base_url, token, "Hello", "k1")
    expected = datetime.fromtimestamp(masto.now(), tz=UTC) + timedelta(seconds=120)
    assert abs((limited.value.reset_at - expected).total_seconds()) < 2
    masto.fault_next("/api/v1/statuses", Fault("slow", delay=1.5))
    with pytest.raises(RemoteUnavailable, match=r"did not answer within 0\.5 s"):
        client.status_post(masto.base_url, token, "Hello", "k2", timeout=0.5)
    client.tag_page(masto.base_url, None, "jam", None)
    masto.rate_limit = masto.windows["anon"][1] + 1  # one request left for anonymous readers
    client.tag_page(masto.base_url, None, "jam", None)
    with pytest.raises(RemoteRateLimited):
        client.tag_page(masto.base_url, None, "jam", None)


def test_status_delete(masto: MastodonEmulator, token: str) -> None:
    published = client.status_post(masto.base_url, token, "Soon gone", "k")
    client.status_delete(masto.base_url, token, published.remote_id)
    assert masto.statuses == {}
    client.status_delete(masto.base_url, token, published.url)  # already gone: fine
    bob = masto.account_add("bob")
    theirs = masto.status_add(bob, "Not yours")
    with pytest.raises(RemoteRefused, match="This action is not allowed"):
        client.status_delete(masto.base_url, token, theirs)


def test_tag_page_reads_statuses_as_their_authors_wrote_them(masto: MastodonEmulator) -> None:
    bob = masto.account_add("bob", "Bob B.", domain="far.example")
    question = masto.status_add(
        bob, "Tom & Jerry?\n\nSee https://example.com/a/long/path/to/a/page #Jam"
    )
    masto.status_add(masto.consenting_user, "Answer #JAM", in_reply_to_id=question)
    boost = masto.status_boost(masto.consenting_user, question)
    page = client.tag_page(masto.base_url, None, "#jam", None)
    answer, asked = page.posts
    assert asked.text == "Tom & Jerry?\n\nSee https://example.com/a/long/path/to/a/page #Jam"
    assert asked.links == ("https://example.com/a/long/path/to/a/page",)
    assert asked.tags == ("jam",) and answer.tags == ("jam",)
    assert asked.remote_id == f"https://far.example/users/bob/statuses/{question}"
    assert asked.author.handle == "bob@far.example"
    assert asked.author.display_name == "Bob B."
    assert answer.author.handle == f"alice@{urlsplit(masto.base_url).netloc}"
    assert answer.author.remote_id == f"{masto.base_url}/users/alice"
    assert answer.reply_to == asked.remote_id  # resolved within the page
    assert asked.created_at.tzinfo is not None and asked.edited_at is None
    assert page.skipped == [f"status {boost}: a boost"]
    assert page.reads == 3 and page.rate_remaining is not None
    again = client.tag_page(masto.base_url, None, "jam", None)
    assert again.rate_remaining == page.rate_remaining - 1  # one request a page
    # A reply to a status not on the page refers to it by its API address.
    masto.status_remove(question)
    lone = client.tag_page(masto.base_url, None, "jam", None).posts[0]
    assert lone.reply_to == status_ref(masto.base_url, question)


def test_a_tag_beyond_ascii(masto: MastodonEmulator) -> None:
    masto.status_add(masto.consenting_user, "Un #Café crème")
    post = client.tag_page(masto.base_url, None, "café", None).posts[0]
    assert post.tags == ("café",) and post.text == "Un #Café crème"


def test_edits_carry_edited_at(masto: MastodonEmulator) -> None:
    sid = masto.status_add(masto.consenting_user, "#jam first")
    masto.status_edit(sid, "#jam second")
    post = client.tag_page(masto.base_url, None, "jam", None).posts[0]
    assert post.text == "#jam second" and post.edited_at is not None


def test_min_id_paging_catches_up_page_by_page(masto: MastodonEmulator, token: str) -> None:
    start = masto.status_add(masto.consenting_user, "#jam old")
    ids = [masto.status_add(masto.consenting_user, f"#jam {n}") for n in range(5)]
    first = client.tag_page(masto.base_url, token, "jam", start, limit=2)
    assert [p.text for p in first.posts] == ["#jam 1", "#jam 0"]
    assert first.newest == first.next_page == ids[1]
    second = client.tag_page(masto.base_url, token, "jam", first.next_page, limit=2)
    assert [p.text for p in second.posts] == ["#jam 3", "#jam 2"]
    last = client.tag_page(masto.base_url, token, "jam", second.next_page, limit=2)
    assert [p.text for p in last.posts] == ["#jam 4"]
    assert (last.newest, last.next_page) == (ids[4], None)
    empty = client.tag_page(masto.base_url, token, "jam", last.newest, limit=2)
    assert (empty.posts, empty.newest, empty.next_page) == ([], ids[4], None)
    back = client.tag_page(masto.base_url, token, "jam", None, max_id=ids[2], limit=2)
    assert [p.text for p in back.posts] == ["#jam 1", "#jam 0"] and back.next_page == ids[0]


def test_timeline_lag_hides_new_statuses_for_a_while(masto: MastodonEmulator) -> None:
    masto.timeline_lag = 20
    masto.status_add(masto.consenting_user, "#jam slow to appear")
    assert client.tag_page(masto.base_url, None, "jam", None).posts == []
    masto.advance(21)
    assert [p.text for p in client.tag_page(masto.base_url, None, "jam", None).posts] == [
        "#jam slow to appear"
    ]


def test_a_malformed_status_is_left_out_with_its_reason(masto: MastodonEmulator) -> None:
    good = masto.status_add(masto.consenting_user, "#jam fine")
    body = requests.get(f"{masto.base_url}/api/v1/timelines/tag/jam", timeout=5).json()
    broken = dict(body[0], id="1", uri="", content="<p>x</p>")
    masto.fault_next("/api/v1/timelines", Fault("raw", body=[body[0], broken, "junk"]))
    page = client.tag_page(masto.base_url, None, "jam", None)
    assert [p.text for p in page.posts] == ["#jam fine"]
    assert page.skipped == ["status 1: a status without uri", "status ?: not a status"]
    assert page.newest == good


ENTRY_POINTS = {
    "app_register": lambda m, t: client.app_register(m.base_url, REDIRECT, timeout=0.5),
    "token_exchange": lambda m, t: client.token_exchange(
        m.base_url, "c", "s", "x", REDIRECT, timeout=0.5
    ),
    "instance_rules": lambda m, t: client.instance_rules(m.base_url, timeout=0.5),
    "status_post": lambda m, t: client.status_post(m.base_url, t, "Hi", "k", timeout=0.5),
    "status_delete": lambda m, t: client.status_delete(m.base_url, t, "1", timeout=0.5),
    "tag_page": lambda m, t: client.tag_page(m.base_url, t, "jam", "1", timeout=0.5),
}
FAULTS = {
    "500": Fault("500"),
    "502": Fault("502"),
    "503": Fault("503"),
    "garbage": Fault("garbage"),
    "cut": Fault("drop"),
    "timeout": Fault("slow", delay=1.0),
    "null": Fault("raw", body=None),
    "a list": Fault("raw", body=[1, "two", None]),
    "a number": Fault("raw", body=7),
    "an error object": Fault("raw", body={"error": 5}),
    "html 200": Fault("raw", body=b"<html>maintenance</html>"),
    "teapot": Fault("raw", status=418, body=b"\x00\xff"),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("fault", FAULTS)
def test_any_answer_gives_a_result_or_a_contract_error(
    masto: MastodonEmulator, token: str, entry: str, fault: str
) -> None:
    for path in ("/api", "/oauth", "/.well-known"):
        masto.fault_next(path, FAULTS[fault])
    try:
        ENTRY_POINTS[entry](masto, token)
    except (RemoteUnavailable, RemoteRefused, RemoteUnauthorized, RemoteRateLimited) as exc:
        assert exc.reason


def test_a_late_status_with_an_older_id_is_behind_min_id(masto: MastodonEmulator) -> None:
    # What the tag_page docstring warns of, as Mastodon does it: ids follow creation time.
    late = masto.status_add(masto.consenting_user, "#jam federated late", lag=30)
    masto.status_add(masto.consenting_user, "#jam on time", lag=0)
    seen = client.tag_page(masto.base_url, None, "jam", None)
    assert [p.text for p in seen.posts] == ["#jam on time"]
    masto.advance(31)
    assert client.tag_page(masto.base_url, None, "jam", seen.newest).posts == []
    older = client.tag_page(masto.base_url, None, "jam", None, max_id=seen.newest)
    assert [p.remote_id.rsplit("/", 1)[1] for p in older.posts] == [late]
