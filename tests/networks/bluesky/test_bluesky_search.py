"""search_tag against the Bluesky-compatible server: lag, paging, since, what a post
carries, malformed items skipped, deleted posts gone, and garbage answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jamhost.networks.bluesky import client
from jamhost.networks.remote import RemoteError, RemotePage, RemoteRefused
from testservers.bluesky.state import BlueskyEmulator

T0 = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def search(bsky: BlueskyEmulator, **kwargs) -> RemotePage:
    return client.search_tag(appview=bsky.public_url, token="", **{"tag": "jam", **kwargs})


def test_a_post_carries_what_jamhost_needs(bsky):
    alice = bsky.account_add("alice.test", "Alice", avatar="https://cdn.example/a.jpg")
    parent = bsky.post_add(alice, "first #jam", created_at=T0, tags=["jam"])
    link_at = len("Ça va? #JAM see ".encode())
    uri = bsky.post_add(
        alice,
        "Ça va? #JAM see https://x.example/p",
        created_at=T0 + timedelta(minutes=1),
        tags=["JAM", "Extra"],
        facets=[
            {
                "index": {"byteStart": link_at, "byteEnd": link_at + 19},
                "features": [
                    {"$type": "app.bsky.richtext.facet#link", "uri": "https://x.example/p"}
                ],
            }
        ],
        reply_to=parent,
        langs=["fr"],
    )
    page = search(bsky)
    assert [p.remote_id for p in page.posts] == [uri, parent]
    post = page.posts[0]
    rkey = uri.rsplit("/", 1)[1]
    assert post.url == f"https://bsky.app/profile/alice.test/post/{rkey}"
    assert post.text == "Ça va? #JAM see https://x.example/p"
    assert post.created_at == T0 + timedelta(minutes=1)
    assert post.tags == ("jam", "extra")  # the facet's, then the record's; lower case
    assert post.links == ("https://x.example/p",)
    assert post.lang == "fr"
    assert post.reply_to == parent
    assert post.author.remote_id == alice
    assert post.author.handle == "alice.test"
    assert post.author.display_name == "Alice"
    assert post.author.avatar_url == "https://cdn.example/a.jpg"
    assert post.author.profile_url == "https://bsky.app/profile/alice.test"
    assert page.newest == "2026-12-03T03:01:00.000Z"
    assert page.next_page is None
    assert page.reads == 2


def test_only_posts_with_the_tag_are_found(bsky):
    alice = bsky.account_add("alice.test")
    bsky.post_add(alice, "no tag here, jam")
    bsky.post_add(alice, "#jamhost is another tag")
    wanted = bsky.post_add(alice, "#Jam", tags=["Jam"])
    assert [p.remote_id for p in search(bsky).posts] == [wanted]


def test_a_new_post_is_found_only_after_the_search_lag(bsky):
    alice = bsky.account_add("alice.test")
    bsky.search_lag = 30
    uri = bsky.post_add(alice, "#jam late", tags=["jam"])
    assert search(bsky).posts == []
    bsky.advance(31)
    page = search(bsky)
    assert [p.remote_id for p in page.posts] == [uri]


def test_pages_follow_the_opaque_cursor_newest_first(bsky):
    alice = bsky.account_add("alice.test")
    uris = [
        bsky.post_add(alice, f"#jam {n}", tags=["jam"], created_at=T0 + timedelta(minutes=n))
        for n in range(5)
    ]
    seen, cursor, pages = [], None, 0
    while True:
        page = search(bsky, limit=2, cursor=cursor)
        pages += 1
        seen += [p.remote_id for p in page.posts]
        assert page.newest is not None
        if page.next_page is None:
            break
        assert not page.next_page.isdigit()  # opaque, not an offset
        cursor = page.next_page
    assert pages == 3
    assert seen == list(reversed(uris))


def test_a_cursor_the_server_did_not_make_is_refused(bsky):
    with pytest.raises(RemoteRefused, match="malformed cursor"):
        search(bsky, cursor="not-a-cursor")


def test_since_leaves_out_older_posts(bsky):
    alice = bsky.account_add("alice.test")
    bsky.post_add(alice, "#jam old", tags=["jam"], created_at=T0)
    new = bsky.post_add(alice, "#jam new", tags=["jam"], created_at=T0 + timedelta(hours=1))
    page = search(bsky, since="2026-12-03T03:30:00.000Z")
    assert [p.remote_id for p in page.posts] == [new]
    page = search(bsky, since=page.newest)  # inclusive
    assert [p.remote_id for p in page.posts] == [new]


def test_deleted_posts_vanish_from_search(bsky):
    alice = bsky.account_add("alice.test")
    uri = bsky.post_add(alice, "#jam gone soon", tags=["jam"])
    assert len(search(bsky).posts) == 1
    bsky.post_delete(uri)
    assert search(bsky).posts == []


def test_malformed_items_are_skipped_with_their_reason(bsky):
    bsky.validate = None  # these records break the lexicon on purpose
    alice = bsky.account_add("alice.test")
    good = bsky.post_add(alice, "#jam fine", tags=["jam"])
    bad_text = bsky.post_store(alice, {"$type": "app.bsky.feed.post", "text": 5, "tags": ["jam"]})
    bad_time = bsky.post_store(
        alice,
        {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "yesterday", "tags": ["jam"]},
    )
    page = search(bsky)
    assert [p.remote_id for p in page.posts] == [good]
    assert sorted(page.skipped) == sorted(
        [
            f"{bad_text['uri']}: its record is not an app.bsky.feed.post record",
            f"{bad_time['uri']}: its createdAt 'yesterday' is not a datetime",
        ]
    )
    assert page.reads == 3


def test_the_page_says_how_much_of_the_rate_window_is_left(bsky):
    bsky.rate_limits["app.bsky.feed.searchPosts"] = (10, 300)
    search(bsky)
    page = search(bsky)
    assert page.rate_remaining == 8
    assert page.rate_reset_at is not None
    assert page.rate_reset_at > datetime.now(tz=UTC) + timedelta(seconds=290)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["posts", "cursor", "uri", "record", "author", "text", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=JSON, status=st.sampled_from([200, 200, 400, 401, 429, 500]))
def test_garbage_answers_raise_only_contract_errors(bsky, body, status):
    bsky.validate = None
    bsky.fault_next(
        "app.bsky.feed.searchPosts",
        "raw",
        status=status,
        body=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        page = search(bsky, timeout=2)
    except RemoteError as exc:
        assert exc.reason.endswith(".")
    else:
        assert isinstance(page, RemotePage)


def test_a_late_indexed_post_sorts_before_newest_so_the_next_search_starts_earlier(bsky):
    alice = bsky.account_add("alice.test")
    bsky.search_lag = 30
    late = bsky.post_add(alice, "#jam indexed late", tags=["jam"])
    bsky.advance(10)
    bsky.search_lag = 0
    quick = bsky.post_add(alice, "#jam indexed at once", tags=["jam"])
    first = search(bsky)
    assert [p.remote_id for p in first.posts] == [quick]
    bsky.advance(25)
    assert first.newest is not None
    assert [p.remote_id for p in search(bsky, since=first.newest).posts] == [quick]  # missed
    margin = datetime.fromisoformat(first.newest) - timedelta(seconds=60)
    again = search(bsky, since=margin.isoformat())
    assert [p.remote_id for p in again.posts] == [quick, late]
