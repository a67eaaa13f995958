"""Publishing a jamhost post to the jam's Bluesky and Mastodon routes, against both test
servers: one delivery per network, the route's hashtag, failures that say why, resends
that never post twice, bounded retries, rate limits, tokens and moderation."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from jamhost.networks.deliveries import MAX_ATTEMPTS, delivery_retry, delivery_send
from jamhost.networks.models import Delivery, DeliveryStatus, JamNetwork, MastodonApp, Network
from jamhost.networks.publishing import post_publish_retry
from jamhost.posts.models import Post
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.networks.conftest import link_x

from .conftest import link_bluesky, link_mastodon, routes

pytestmark = pytest.mark.django_db


def compose(jam: Any, user: Any, body: str, captured: Any) -> Post:
    with captured(execute=True):
        post = post_compose(jam=jam, user=user, body=body)
    post.refresh_from_db()
    return post


def bluesky_texts(bsky: Any, did: str) -> list[str]:
    return [p["record"]["text"] for p in bsky.posts.values() if p["did"] == did]


def mastodon_texts(masto: Any, username: str) -> list[str]:
    ids = [a for a, v in masto.accounts.items() if v["username"] == username]
    return [s["text"] for s in masto.statuses.values() if s["account_id"] in ids]


@pytest.fixture
def jam_two(networks: Any) -> Any:
    """A live jam on Bluesky (#BlueJam, not the jam's tag) and Mastodon (the jam's tag),
    with a panelist linked on both."""
    bsky, masto = networks
    jam = live_jam()
    blue, mast = routes(jam, bsky, masto, bluesky_tag="BlueJam")
    panelist = UserFactory(username="pat")
    MembershipFactory(jam=jam, user=panelist)
    link_bluesky(bsky, panelist)
    link_mastodon(masto, panelist)
    return jam, panelist, blue, mast


def test_a_post_goes_to_both_networks_with_each_route_hashtag(
    networks: Any, jam_two: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam, panelist, _blue, _mast = jam_two
    post = compose(jam, panelist, "Ship small things", django_capture_on_commit_callbacks)

    deliveries = {d.route.network: d for d in Delivery.objects.filter(post=post)}
    assert set(deliveries) == {"bluesky", "mastodon"}
    account = panelist.linked_accounts.get(network="bluesky")
    assert bluesky_texts(bsky, account.remote_id) == [post.text.replace(jam.tag, "#BlueJam")]
    assert "#BlueJam" in bluesky_texts(bsky, account.remote_id)[0]
    assert mastodon_texts(masto, "pat") == [post.text]
    assert jam.tag in post.text
    for network in ("bluesky", "mastodon"):
        assert deliveries[network].status == DeliveryStatus.PUBLISHED
        assert post.elsewhere[network]["status"] == "published"
        assert post.elsewhere[network]["url"].startswith(("https://", "http://"))
    assert post.elsewhere["bluesky"]["url"].startswith("https://bsky.app/profile/")
    # Sending again changes nothing.
    assert delivery_send(delivery_id=deliveries["bluesky"].pk) == "skipped"
    assert len(bsky.posts) == 1 and len(masto.statuses) == 1


def _delivery(post: Post, network: str) -> Delivery:
    return Delivery.objects.select_related("account").get(post=post, route__network=network)


LONG = "See https://example.com/" + "a" * 140 + " and https://example.org/" + "b" * 140


def test_too_long_for_bluesky_is_stored_fails_only_there_and_goes_to_mastodon(
    networks: Any, jam_two: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam, panelist, _, _ = jam_two
    # It fits the instance: the compose path takes it; Bluesky says why it is not there.
    post = compose(jam, panelist, LONG, django_capture_on_commit_callbacks)
    post.refresh_from_db()

    assert bsky.posts == {}
    assert mastodon_texts(masto, "pat") == [post.text]
    blue = _delivery(post, "bluesky")
    assert blue.status == DeliveryStatus.FAILED
    assert blue.error.startswith("Too long for Bluesky:")
    assert "of 300 (graphemes)" in blue.error
    assert post.elsewhere["bluesky"]["status"] == "failed"
    assert post.elsewhere["mastodon"]["status"] == "published"


def test_a_word_the_instance_bans_fails_with_its_reason_bluesky_still_gets_it(
    networks: Any, jam_two: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    masto.banned_words = ["frobnicate"]
    jam, panelist, _, _ = jam_two
    post = compose(jam, panelist, "we frobnicate daily", django_capture_on_commit_callbacks)

    mast = _delivery(post, "mastodon")
    assert mast.status == DeliveryStatus.FAILED
    assert "does not allow" in mast.error and mast.error.startswith("Mastodon refused it")
    assert masto.statuses == {}
    assert _delivery(post, "bluesky").status == DeliveryStatus.PUBLISHED
    assert len(bsky.posts) == 1


def test_lost_answers_are_resent_and_post_exactly_once(
    networks: Any, jam_two: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam, panelist, _, _ = jam_two
    bsky.fault_next("com.atproto.repo.createRecord", "drop_after_create")
    bsky.fault_next("com.atproto.repo.getRecord", "503")  # the check after it fails too
    masto.fault_next("/api/v1/statuses", "drop_after_create")
    post = compose(jam, panelist, "lost answers", django_capture_on_commit_callbacks)

    blue, mast = _delivery(post, "bluesky"), _delivery(post, "mastodon")
    assert blue.status == mast.status == DeliveryStatus.QUEUED
    assert "trying again" in blue.error and "trying again" in mast.error
    # The Bluesky post's id was known before the call.
    (uri,) = bsky.posts
    assert blue.remote_id == uri

    assert delivery_send(delivery_id=blue.pk) == "published"
    assert delivery_send(delivery_id=mast.pk) == "published"
    assert len(bsky.posts) == 1 and len(masto.statuses) == 1
    blue.refresh_from_db()
    mast.refresh_from_db()
    assert blue.remote_id == uri and blue.error == ""
    (status,) = masto.statuses
    assert mast.remote_id.endswith(f"/statuses/{status}")
    post.refresh_from_db()
    assert {n: v["status"] for n, v in post.elsewhere.items()} == {
        "bluesky": "published",
        "mastodon": "published",
    }


def test_5xx_until_the_bound_then_failed_and_retry_requeues(
    networks: Any, jam_two: Any, django_capture_on_commit_callbacks: Any, client: Any
) -> None:
    _bsky, masto = networks
    jam, panelist, _, _ = jam_two
    for _ in range(MAX_ATTEMPTS + 2):
        masto.fault_next("/api/v1/statuses", "503")
    post = compose(jam, panelist, "five hundreds", django_capture_on_commit_callbacks)
    mast = _delivery(post, "mastodon")
    results = [delivery_send(delivery_id=mast.pk) for _ in range(MAX_ATTEMPTS + 1)]
    assert results[: MAX_ATTEMPTS - 2] == ["retry"] * (MAX_ATTEMPTS - 2)
    assert results[MAX_ATTEMPTS - 2] == "failed"
    assert results[-1] == "skipped"
    calls = [r for r in masto.requests if r[0] == "POST" and r[1] == "/api/v1/statuses"]
    assert len(calls) == MAX_ATTEMPTS
    mast.refresh_from_db()
    assert mast.status == DeliveryStatus.FAILED and "Press Retry" in mast.error
    post.refresh_from_db()
    assert post.elsewhere["mastodon"]["status"] == "failed"

    failed_rev = post.rev
    masto.faults.clear()
    client.force_login(panelist)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/posts/{post.pk}/mastodon/retry/")
    assert answer.status_code == 302
    mast.refresh_from_db()
    assert mast.status == DeliveryStatus.PUBLISHED
    assert mastodon_texts(masto, "pat") == [post.text]
    post.refresh_from_db()
    assert post.elsewhere["mastodon"]["status"] == "published" and post.rev > failed_rev
    # A delivery that did not fail cannot be retried.
    answer = client.post(f"/posts/{post.pk}/mastodon/retry/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 409 and "failed" in answer.content.decode()


def test_a_network_switched_off_gets_no_delivery(
    networks: Any, jam_two: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    settings.BLUESKY_ENABLED = False
    jam, panelist, _, _ = jam_two
    post = compose(jam, panelist, "mastodon only", django_capture_on_commit_callbacks)
    assert [d.route.network for d in Delivery.objects.filter(post=post)] == ["mastodon"]
    assert bsky.posts == {} and len(masto.statuses) == 1
    assert set(post.elsewhere) == {"mastodon"}


def test_a_mastodon_account_on_another_instance_posts_within_its_own_limit(
    networks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The jam runs on a small instance (100 characters); its panelist's account is on
    the test server (500): the status goes out from there, so 500 is the limit."""
    _bsky, masto = networks
    jam = live_jam()
    small = "https://small.example"
    MastodonApp.objects.create(
        service=small, client_id="c", client_secret="s", redirect_uri=small, max_characters=100
    )
    JamNetwork.objects.create(jam=jam, network=Network.MASTODON, service=small)
    panelist = UserFactory(username="wanderer")
    MembershipFactory(jam=jam, user=panelist)
    link_mastodon(masto, panelist)
    body = "A long answer that a small instance would refuse, " * 4
    post = compose(jam, panelist, body.strip(), django_capture_on_commit_callbacks)

    assert len(post.text) > 100
    mast = _delivery(post, "mastodon")
    assert mast.status == DeliveryStatus.PUBLISHED, mast.error
    assert mastodon_texts(masto, "wanderer") == [post.text]

    # A Retry is counted on the same instance: refused by the server once, then sent.
    masto.banned_words = ["wander"]
    again = compose(jam, panelist, f"Wandering, {body.strip()}", django_capture_on_commit_callbacks)
    assert _delivery(again, "mastodon").status == DeliveryStatus.FAILED
    masto.banned_words = []
    with django_capture_on_commit_callbacks(execute=True):
        delivery_retry(post=again, actor=panelist, network="mastodon")
    assert _delivery(again, "mastodon").status == DeliveryStatus.PUBLISHED


def test_too_long_for_x_fails_there_without_asking_x_and_goes_to_the_others(
    networks: Any, jam_two: Any, x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Over X's 280 but within Bluesky's 300 and the instance's 500: stored, shown "Not on
    X" with the reason, never sent to X (nor billed), published on the other two."""
    _bsky, masto = networks
    jam, panelist, _, _ = jam_two
    link_x(x_server, panelist)
    post = compose(jam, panelist, "y " * 140, django_capture_on_commit_callbacks)
    post.refresh_from_db()

    assert x_server.requests_to("/2/tweets", "POST") == []
    assert post.elsewhere["x"]["status"] == "failed"
    assert post.elsewhere["x"]["error"].startswith("Too long for X: ")
    assert "It went to the other networks." in post.elsewhere["x"]["error"]
    assert _delivery(post, "bluesky").status == DeliveryStatus.PUBLISHED
    assert mastodon_texts(masto, "pat") == [post.text]
    with pytest.raises(ValidationError, match="Too long for X"):
        post_publish_retry(post=post, actor=panelist)
