"""A jamhost reply goes out as a reply on each network where the post it answers is: one
read from that network (a Bluesky thread's post, a status of this or another Mastodon
server), or jamhost's own post published there. Elsewhere, or when that post is gone, it
goes out on its own."""

from __future__ import annotations

from typing import Any

import pytest

from jamhost.audience.replies import reply_compose
from jamhost.networks.cursors import route_poll
from jamhost.networks.models import Delivery, DeliveryStatus
from jamhost.posts.models import Post
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam

from .conftest import link_bluesky, link_mastodon, routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def jam_two(networks: Any) -> Any:
    """A live jam on Bluesky and Mastodon, with two people linked on both."""
    bsky, masto = networks
    jam = live_jam()
    blue, mast = routes(jam, bsky, masto)
    link_bluesky(bsky, jam.host)  # reads Bluesky's search
    people = []
    for name in ("pat", "quinn"):
        person = UserFactory(username=name)
        MembershipFactory(jam=jam, user=person)
        link_bluesky(bsky, person)
        link_mastodon(masto, person)
        people.append(person)
    return jam, people, blue, mast


def bluesky_record(bsky: Any, post: Post) -> dict[str, Any]:
    delivery = Delivery.objects.get(post=post, route__network="bluesky")
    assert delivery.status == DeliveryStatus.PUBLISHED, delivery.error
    return dict(bsky.posts[delivery.remote_id]["record"])


def mastodon_status(masto: Any, post: Post) -> dict[str, Any]:
    delivery = Delivery.objects.get(post=post, route__network="mastodon")
    assert delivery.status == DeliveryStatus.PUBLISHED, delivery.error
    (found,) = [s for s in masto.statuses.values() if delivery.remote_id.endswith(f"/{s['id']}")]
    return dict(found)


def strong_ref(bsky: Any, uri: str) -> tuple[str, str]:
    return uri, bsky.posts[uri]["cid"]


def reply_refs(record: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The record's reply refs, (uri, cid) each, without their $type."""
    return {k: (v["uri"], v["cid"]) for k, v in record["reply"].items() if k != "$type"}


def test_a_reply_to_a_post_read_from_a_network_is_a_reply_there_only(
    networks: Any, jam_two: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam, (pat, _), blue, mast = jam_two
    carol = bsky.account_add("carol.bsky.test")
    first = bsky.post_add(carol, f"A1: start here {jam.tag}", tags=[jam.hashtag])
    second = bsky.post_add(carol, f"and more {jam.tag}", tags=[jam.hashtag], reply_to=first)
    erin = masto.account_add("erin", "Erin", domain="elsewhere.example")
    federated = masto.status_add(erin, f"A1: from afar {jam.tag}")
    route_poll(route_id=blue.pk)
    route_poll(route_id=mast.pk)
    on_bluesky = Post.objects.get(jam=jam, external_id=second)
    on_mastodon = Post.objects.get(jam=jam, source="mastodon")

    with django_capture_on_commit_callbacks(execute=True):
        to_bluesky = reply_compose(jam=jam, user=pat, parent_id=on_bluesky.pk, body="Agreed")
        to_mastodon = reply_compose(jam=jam, user=pat, parent_id=on_mastodon.pk, body="Same")

    # jamhost threads a reply under the conversation's first post: Bluesky's thread root.
    assert to_bluesky.reply_to_id == Post.objects.get(jam=jam, external_id=first).pk
    record = bluesky_record(bsky, to_bluesky)
    assert reply_refs(record) == {
        "root": strong_ref(bsky, first),
        "parent": strong_ref(bsky, first),
    }
    # The federated status is found through the instance's search, by its URI.
    assert mastodon_status(masto, to_mastodon)["in_reply_to_id"] == federated
    # Each reply answers nothing on the other network: it goes out on its own there.
    assert mastodon_status(masto, to_bluesky)["in_reply_to_id"] is None
    assert "reply" not in bluesky_record(bsky, to_mastodon)


def test_a_reply_to_a_jamhost_post_answers_what_jamhost_published(
    networks: Any, jam_two: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam, (pat, quinn), _, _ = jam_two
    with django_capture_on_commit_callbacks(execute=True):
        question = post_compose(jam=jam, user=pat, body="Who ships on Fridays?")
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_compose(jam=jam, user=quinn, parent_id=question.pk, body="We do")
    parent_uri = Delivery.objects.get(post=question, route__network="bluesky").remote_id
    record = bluesky_record(bsky, reply)
    assert reply_refs(record) == {
        "root": strong_ref(bsky, parent_uri),
        "parent": strong_ref(bsky, parent_uri),
    }
    parent_status = mastodon_status(masto, question)
    assert mastodon_status(masto, reply)["in_reply_to_id"] == str(parent_status["id"])


def test_a_reply_to_a_post_deleted_since_goes_out_on_its_own(
    networks: Any, jam_two: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, masto = networks
    jam, (pat, quinn), _, _ = jam_two
    with django_capture_on_commit_callbacks(execute=True):
        question = post_compose(jam=jam, user=pat, body="Tabs or spaces?")
    # Its author deletes it on both networks, outside jamhost.
    bsky.post_delete(Delivery.objects.get(post=question, route__network="bluesky").remote_id)
    masto.status_remove(str(mastodon_status(masto, question)["id"]))
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_compose(jam=jam, user=quinn, parent_id=question.pk, body="Spaces")
    assert "reply" not in bluesky_record(bsky, reply)
    assert mastodon_status(masto, reply)["in_reply_to_id"] is None


def test_a_reply_keeps_the_bluesky_thread_root_the_jam_never_saw(
    networks: Any, jam_two: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bsky, _ = networks
    jam, (pat, _), blue, _ = jam_two
    carol = bsky.account_add("carol.bsky.test")
    outside = bsky.post_add(carol, "a thought, untagged")
    tagged = bsky.post_add(carol, f"A1: more on it {jam.tag}", tags=[jam.hashtag], reply_to=outside)
    route_poll(route_id=blue.pk)
    parent = Post.objects.get(jam=jam, external_id=tagged)
    assert parent.reply_to_id is None  # its parent carries no tag: not in the jam
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_compose(jam=jam, user=pat, parent_id=parent.pk, body="Good point")
    assert reply_refs(bluesky_record(bsky, reply)) == {
        "root": strong_ref(bsky, outside),
        "parent": strong_ref(bsky, tagged),
    }
