"""Deliveries that wait: a rate limit's reset, a Bluesky token that expired or was revoked,
a post held by moderation, and the questions the host's poster account sends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jamhost.jams import run_sheet
from jamhost.jams.models import ModerationMode
from jamhost.networks.deliveries import deliveries_due, delivery_send
from jamhost.networks.models import Delivery, DeliveryStatus
from jamhost.networks.sweep import networks_sweep
from jamhost.posts.models import Post, PostStatus
from jamhost.posts.post_moderation import post_approve, post_hide
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam

from .conftest import link_bluesky, link_mastodon, routes
from .test_gateway_publishing import bluesky_texts, compose, mastodon_texts

pytestmark = pytest.mark.django_db


def _delivery(post: Post, network: str) -> Delivery:
    return Delivery.objects.select_related("account").get(post=post, route__network=network)


def test_429_waits_until_the_reset(networks: Any, django_capture_on_commit_callbacks: Any) -> None:
    bsky, masto = networks
    jam = live_jam()
    routes(jam, bsky, masto)
    link_bluesky(bsky, jam.host)
    bsky.fault_next("com.atproto.repo.createRecord", "429", reset_in=120)
    post = compose(jam, jam.host, "rate limited", django_capture_on_commit_callbacks)

    blue = _delivery(post, "bluesky")
    assert blue.status == DeliveryStatus.QUEUED and "trying again at" in blue.error
    wait = (blue.next_attempt_at - timezone.now()).total_seconds()
    assert 100 < wait <= 121, wait
    assert blue.pk not in deliveries_due(now=timezone.now())
    later = timezone.now() + timedelta(seconds=125)
    assert deliveries_due(now=later) == [blue.pk]
    networks_sweep(now=later)
    blue.refresh_from_db()
    assert blue.status == DeliveryStatus.PUBLISHED and len(bsky.posts) == 1
    # A wait for a rate limit is not one of the bounded attempts.
    assert blue.attempts == 1


def test_an_expired_bluesky_token_is_refreshed_without_asking(
    networks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam = live_jam()
    routes(jam, bsky, masto)
    account = link_bluesky(bsky, jam.host)
    old = account.access_token
    bsky.tokens_expire(account.remote_id)
    post = compose(jam, jam.host, "fresh tokens", django_capture_on_commit_callbacks)

    assert _delivery(post, "bluesky").status == DeliveryStatus.PUBLISHED
    assert bluesky_texts(bsky, account.remote_id) == [post.text]
    account.refresh_from_db()
    assert account.access_token != old and account.revoked_at is None


def test_a_revoked_bluesky_account_is_marked_and_asks_to_link_again(
    networks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam = live_jam()
    routes(jam, bsky, masto)
    account = link_bluesky(bsky, jam.host)
    bsky.tokens_revoke(account.remote_id)
    bsky.accounts[account.remote_id]["password"] = "another-app-password"  # revoked too
    post = compose(jam, jam.host, "revoked", django_capture_on_commit_callbacks)

    blue = _delivery(post, "bluesky")
    assert blue.status == DeliveryStatus.FAILED
    assert "Link your Bluesky account again" in blue.error
    account.refresh_from_db()
    assert account.revoked_at is not None
    assert bsky.posts == {}


def test_a_pending_post_is_held_until_approved_a_hidden_one_never_goes(
    networks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam = live_jam(moderation_mode=ModerationMode.PRE)
    routes(jam, bsky, masto)
    fan = UserFactory(username="fan")
    link_bluesky(bsky, fan)
    link_mastodon(masto, fan)
    moderator = UserFactory()
    MembershipFactory(jam=jam, user=moderator, role="moderator")

    post = compose(jam, fan, "please approve me", django_capture_on_commit_callbacks)
    hidden = compose(jam, fan, "please hide me", django_capture_on_commit_callbacks)
    assert post.status == PostStatus.PENDING
    for network in ("bluesky", "mastodon"):
        assert _delivery(post, network).status == DeliveryStatus.HELD
        assert post.elsewhere[network]["status"] == "held"
    assert bsky.posts == {} and masto.statuses == {}

    with django_capture_on_commit_callbacks(execute=True):
        post_hide(jam=jam, actor=moderator, post_id=hidden.pk, reason="off-topic")
        post_approve(jam=jam, actor=moderator, post_id=post.pk)
    for network in ("bluesky", "mastodon"):
        assert _delivery(post, network).status == DeliveryStatus.PUBLISHED
        assert _delivery(hidden, network).status == DeliveryStatus.HELD
    networks_sweep(now=timezone.now() + timedelta(hours=1))
    assert len(bsky.posts) == 1 and mastodon_texts(masto, "fan") == [post.text]


def test_a_released_question_goes_out_from_the_routes_poster(
    networks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam = live_jam(released=0)
    blue, mast = routes(jam, bsky, masto)
    poster = UserFactory(username="jamaccount")
    blue.poster = link_bluesky(bsky, poster)
    blue.save()
    mast.poster = link_mastodon(masto, poster)
    mast.save()
    link_bluesky(bsky, jam.host)  # the host's own account does not send questions
    question = jam.questions.get(number=1)
    with django_capture_on_commit_callbacks(execute=True):
        run_sheet.question_release(question=question)
    post = Post.objects.get(jam=jam, question=question, kind="question")

    assert bluesky_texts(bsky, blue.poster.remote_id) == [post.text]
    assert mastodon_texts(masto, "jamaccount") == [post.text]
    assert post.text.startswith("Q1: ")


def test_gone_sessions_are_made_again_with_the_app_password(
    networks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam = live_jam()
    routes(jam, bsky, masto)
    account = link_bluesky(bsky, jam.host)
    bsky.tokens_revoke(account.remote_id)  # access and refresh tokens gone, password kept
    post = compose(jam, jam.host, "a new session", django_capture_on_commit_callbacks)

    assert _delivery(post, "bluesky").status == DeliveryStatus.PUBLISHED
    assert bluesky_texts(bsky, account.remote_id) == [post.text]
    account.refresh_from_db()
    assert account.revoked_at is None


def test_retry_after_linking_again_uses_the_new_account(
    networks: Any, django_capture_on_commit_callbacks: Any, client: Any
) -> None:
    bsky, masto = networks
    jam = live_jam()
    routes(jam, bsky, masto)
    account = link_bluesky(bsky, jam.host)
    bsky.tokens_revoke(account.remote_id)
    bsky.accounts[account.remote_id]["password"] = "another-app-password"
    post = compose(jam, jam.host, "link again", django_capture_on_commit_callbacks)
    assert _delivery(post, "bluesky").status == DeliveryStatus.FAILED

    client.force_login(jam.host)
    client.post(f"/accounts/linked/{account.pk}/unlink/")
    linked = client.post(
        "/accounts/bluesky/connect/",
        {"handle": account.handle, "app_password": "another-app-password"},
    )
    assert linked.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/posts/{post.pk}/bluesky/retry/")
    assert answer.status_code == 302
    assert _delivery(post, "bluesky").status == DeliveryStatus.PUBLISHED
    assert bluesky_texts(bsky, account.remote_id) == [post.text]


def test_a_leased_delivery_is_left_alone_until_its_lease_runs_out(networks: Any) -> None:
    bsky, masto = networks
    jam = live_jam()
    routes(jam, bsky, masto)
    link_mastodon(masto, jam.host)
    post = post_compose(jam=jam, user=jam.host, body="one worker at a time")  # no task ran
    delivery = _delivery(post, "mastodon")
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=now + timedelta(seconds=30))
    assert delivery_send(delivery_id=delivery.pk, now=now) == "skipped"
    assert deliveries_due(now=now) == []
    later = now + timedelta(seconds=31)
    assert deliveries_due(now=later) == [delivery.pk]
    assert delivery_send(delivery_id=delivery.pk, now=later) == "published"
    assert mastodon_texts(masto, jam.host.username) == [post.text]


def test_a_token_known_to_run_out_is_refreshed_before_the_call(
    networks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam = live_jam()
    routes(jam, bsky, masto)
    account = link_bluesky(bsky, jam.host)
    account.expires_at = timezone.now() + timedelta(seconds=20)
    account.save()
    post = compose(jam, jam.host, "refreshed first", django_capture_on_commit_callbacks)
    assert _delivery(post, "bluesky").status == DeliveryStatus.PUBLISHED
    assert len(bsky.requests_to("com.atproto.server.refreshSession")) == 1
    assert len(bsky.requests_to("com.atproto.repo.createRecord")) == 1
    account.refresh_from_db()
    assert account.expires_at is not None and account.expires_at > timezone.now() + timedelta(
        minutes=30
    )


def test_without_a_poster_the_hosts_account_sends_the_question(
    networks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam = live_jam(released=0)
    routes(jam, bsky, masto)
    account = link_bluesky(bsky, jam.host)
    with django_capture_on_commit_callbacks(execute=True):
        run_sheet.question_release(question=jam.questions.get(number=1))
    post = Post.objects.get(jam=jam, kind="question")
    assert bluesky_texts(bsky, account.remote_id) == [post.text]
    assert masto.statuses == {}  # no account there: nothing sent, nothing failed
    assert set(post.elsewhere) == {"bluesky"}


def test_mastodon_429_waits_and_a_revoked_token_asks_to_link_again(
    networks: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam = live_jam()
    routes(jam, bsky, masto)
    account = link_mastodon(masto, jam.host)
    masto.fault_next("/api/v1/statuses", "429")
    post = compose(jam, jam.host, "mastodon waits", django_capture_on_commit_callbacks)
    mast = _delivery(post, "mastodon")
    assert mast.status == DeliveryStatus.QUEUED and "trying again at" in mast.error
    assert mast.next_attempt_at > timezone.now() + timedelta(seconds=30)
    assert mast.attempts == 0

    masto.tokens_revoke()
    assert delivery_send(delivery_id=mast.pk, now=mast.next_attempt_at) == "failed"
    mast.refresh_from_db()
    assert mast.error == "Link your Mastodon account again, then press Retry."
    account.refresh_from_db()
    assert account.revoked_at is not None and "revoked" in account.revoked_reason
    assert masto.statuses == {}


def test_a_post_hidden_before_its_turn_stays_off_both_networks(networks: Any) -> None:
    bsky, masto = networks
    jam = live_jam()
    routes(jam, bsky, masto)
    fan = UserFactory(username="fan")
    link_bluesky(bsky, fan)
    link_mastodon(masto, fan)
    moderator = UserFactory()
    MembershipFactory(jam=jam, user=moderator, role="moderator")
    post = post_compose(jam=jam, user=fan, body="spam spam")  # queued, not sent yet
    post_hide(jam=jam, actor=moderator, post_id=post.pk, reason="spam")
    for network in ("bluesky", "mastodon"):
        assert delivery_send(delivery_id=_delivery(post, network).pk) == "held"
    networks_sweep(now=timezone.now() + timedelta(hours=1))
    assert bsky.posts == {} and masto.statuses == {}
    post.refresh_from_db()
    assert {v["status"] for v in post.elsewhere.values()} == {"held"}
