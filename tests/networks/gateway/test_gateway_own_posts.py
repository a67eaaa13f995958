"""jamhost's own publications come back in the tag search: they are recognised, never
stored twice, even when the answer to the create was lost (Bluesky by the at:// URI
chosen before the call, Mastodon by the account and the text)."""

from __future__ import annotations

from typing import Any

import pytest

from jamhost.networks.cursors import route_poll
from jamhost.networks.deliveries import delivery_send
from jamhost.networks.models import Delivery, DeliveryStatus
from jamhost.posts.models import Post
from tests.factories import live_jam

from .conftest import link_bluesky, link_mastodon, routes
from .test_gateway_publishing import compose

pytestmark = pytest.mark.django_db


@pytest.fixture
def jam_linked(networks: Any) -> Any:
    bsky, masto = networks
    jam = live_jam()
    blue, mast = routes(jam, bsky, masto, bluesky_tag="BlueJam")
    link_bluesky(bsky, jam.host)
    link_mastodon(masto, jam.host)
    return jam, blue, mast


def test_published_posts_are_recognised_not_stored_again(
    networks: Any, jam_linked: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam, blue, mast = jam_linked
    post = compose(jam, jam.host, "our own words", django_capture_on_commit_callbacks)
    assert len(bsky.posts) == 1 and len(masto.statuses) == 1
    for route in (blue, mast):
        result = route_poll(route_id=route.pk)
        assert result.stored == 0 and result.duplicates == 1
    assert list(Post.objects.filter(jam=jam).exclude(kind="question")) == [post]


@pytest.mark.parametrize(
    "body",
    [
        "answer lost on the way",
        "links shown shortened https://example.com/" + "a" * 60 + " &amp; <b>html</b>",
    ],
)
def test_lost_answers_are_settled_by_ingest_and_never_sent_again(
    networks: Any, jam_linked: Any, django_capture_on_commit_callbacks: Any, body: str
) -> None:
    bsky, masto = networks
    jam, blue, mast = jam_linked
    bsky.fault_next("com.atproto.repo.createRecord", "drop_after_create")
    bsky.fault_next("com.atproto.repo.getRecord", "503")
    masto.fault_next("/api/v1/statuses", "drop_after_create")
    post = compose(jam, jam.host, body, django_capture_on_commit_callbacks)
    deliveries = Delivery.objects.filter(post=post)
    assert {d.status for d in deliveries} == {DeliveryStatus.QUEUED}

    for route in (blue, mast):
        result = route_poll(route_id=route.pk)
        assert result.stored == 0 and result.duplicates == 1
    (uri,) = bsky.posts
    (status,) = masto.statuses
    by_network = {d.route.network: d for d in Delivery.objects.filter(post=post)}
    assert by_network["bluesky"].status == DeliveryStatus.PUBLISHED
    assert by_network["bluesky"].remote_id == uri
    assert by_network["mastodon"].status == DeliveryStatus.PUBLISHED
    assert by_network["mastodon"].remote_id.endswith(f"/statuses/{status}")
    assert by_network["mastodon"].url == f"{masto.base_url}/@{jam.host.username}/{status}"
    post.refresh_from_db()
    assert post.elsewhere["mastodon"]["status"] == "published"
    for delivery in by_network.values():
        assert delivery_send(delivery_id=delivery.pk) == "skipped"
    assert len(bsky.posts) == 1 and len(masto.statuses) == 1
    assert Post.objects.filter(jam=jam).exclude(source="app").count() == 0


def test_replies_to_jamhost_posts_are_threaded_under_them(
    networks: Any, jam_linked: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam, blue, mast = jam_linked
    post = compose(jam, jam.host, "reply to me", django_capture_on_commit_callbacks)
    (uri,) = bsky.posts
    (status,) = masto.statuses
    for server in (masto, bsky):
        server.advance(600)
    dave = masto.account_add("dave")
    carol = bsky.account_add("carol.bsky.test")
    masto.status_add(dave, f"unrelated {jam.tag}")
    bsky.post_add(carol, "unrelated #BlueJam", tags=["BlueJam"])
    route_poll(route_id=mast.pk)
    route_poll(route_id=blue.pk)
    for server in (masto, bsky):
        server.advance(600)
    masto.status_add(dave, f"a reply {jam.tag}", in_reply_to_id=str(status))
    bsky.post_add(carol, "a reply #BlueJam", tags=["BlueJam"], reply_to=uri)
    route_poll(route_id=mast.pk)
    route_poll(route_id=blue.pk)
    replies = Post.objects.filter(jam=jam, text__startswith="a reply")
    assert replies.count() == 2
    assert {r.reply_to_id for r in replies} == {post.pk}
