"""Mastodon's hashtag streams into the jams: new, edited and deleted statuses, a stream
that ends and reconnects, garbage, the reader's token (and anonymous reading after the
instance refuses it)."""

from __future__ import annotations

import logging

import pytest

from jamhost.networks.crypto import token_encrypt
from jamhost.networks.models import LinkedAccount, Network
from jamhost.posts.models import Post, PostStatus
from tests.factories import live_jam
from tests.networks.listen.support import route_add, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]
MASTO = Network.MASTODON


def mastodon_jam(masto):  # type: ignore[no-untyped-def]
    jam = live_jam()
    return jam, route_add(jam, MASTO, service=masto.base_url), jam.hashtag.lower()


def posts(jam) -> list[Post]:  # type: ignore[no-untyped-def]
    return list(Post.objects.filter(jam=jam, source=MASTO).order_by("seq"))


def streamed(masto) -> list[tuple[dict, dict]]:  # type: ignore[no-untyped-def]
    """(query, headers) of each request for a stream."""
    return [(r[2], r[4]) for r in list(masto.requests) if r[1].startswith("/api/v1/streaming")]


def test_new_edited_and_deleted_statuses_arrive_over_the_stream(masto, supervisor):
    jam, _, tag = mastodon_jam(masto)
    supervisor()
    wait_for(lambda: masto.streams_open == 1)
    sid = masto.status_add(masto.consenting_user, f"A1: live on Mastodon #{tag}")
    masto.status_add(masto.consenting_user, "Elsewhere #other")
    wait_for(lambda: len(posts(jam)) == 1)
    post = posts(jam)[0]
    assert post.text == f"A1: live on Mastodon #{tag}"
    assert post.author_handle.startswith("alice")
    assert post.question is not None and post.question.number == 1
    assert post.external_id.endswith(f"/users/alice/statuses/{sid}")

    masto.status_edit(sid, f"A1: live, and edited #{tag}")
    wait_for(lambda: posts(jam)[0].text == f"A1: live, and edited #{tag}")
    assert posts(jam)[0].edited_at is not None

    masto.status_remove(sid)
    wait_for(lambda: posts(jam)[0].status == PostStatus.HIDDEN)
    assert (posts(jam)[0].text, len(posts(jam))) == ("", 1)
    assert posts(jam)[0].status_reason == "deleted on Mastodon by its author"
    # Nothing was polled: the tag's timeline was never read.
    assert not [r for r in masto.requests if r[1].startswith("/api/v1/timelines/tag")]
    assert streamed(masto)[0][0]["tag"] == [tag]
    assert "Authorization" not in streamed(masto)[0][1]  # no account: anonymous


def test_a_stream_that_ends_is_opened_again(masto, supervisor):
    jam, _, tag = mastodon_jam(masto)
    supervisor()
    wait_for(lambda: masto.streams_open == 1)
    masto.streams_close()  # the streaming server restarts
    wait_for(lambda: len(streamed(masto)) == 2 and masto.streams_open == 1)
    masto.status_add(masto.consenting_user, f"after the restart #{tag}")
    wait_for(lambda: len(posts(jam)) == 1)


def test_garbage_on_the_stream_is_skipped_and_later_statuses_arrive(masto, supervisor, caplog):
    caplog.set_level(logging.INFO)
    jam, _, tag = mastodon_jam(masto)
    supervisor()
    wait_for(lambda: masto.streams_open == 1)
    with masto.lock:
        masto.events.append(("update", [tag], "{not json"))
        masto.events.append(("update", [tag], '{"id": "1", "content": 5}'))
        masto.stream_changed.notify_all()
    masto.status_add(masto.consenting_user, f"after the garbage #{tag}")
    wait_for(lambda: len(posts(jam)) == 1)
    assert "an update event whose data is not JSON" in caplog.text
    assert "a status left out" in caplog.text
    assert posts(jam)[0].text == f"after the garbage #{tag}"
    # The server's own check flags the two it was made to send, and nothing else.
    assert len(masto.validation_errors) == 2, masto.validation_errors
    masto.validation_errors.clear()


def test_the_hosts_account_on_the_instance_reads_and_a_refused_token_falls_back(masto, supervisor):
    jam, _, tag = mastodon_jam(masto)
    token = masto.token_add(masto.consenting_user)
    LinkedAccount.objects.create(
        user=jam.host,
        network=MASTO,
        service=masto.base_url,
        remote_id=f"{masto.base_url}/users/alice",
        handle=f"alice@{masto.domain}",
        access_token=token_encrypt(token),
    )
    supervisor()
    wait_for(lambda: masto.streams_open == 1)
    assert streamed(masto)[0][1].get("Authorization") == f"Bearer {token}"

    masto.tokens_revoke()
    masto.streams_close()
    # The instance refuses the token now: the route is read anonymously.
    wait_for(lambda: any("Authorization" not in h for _, h in streamed(masto)[1:]))
    wait_for(lambda: masto.streams_open == 1)
    masto.status_add(masto.consenting_user, f"read anonymously #{tag}")
    wait_for(lambda: len(posts(jam)) == 1)
