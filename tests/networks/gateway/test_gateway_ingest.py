"""Ingest from Bluesky and Mastodon through the gateway against both test servers: each
post stored once, threaded and filed under its question, late posts still found, boosts
left out, edits in place, jamhost's own posts recognised, cursors that survive faults."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jamhost.jams.models import Jam, JamStatus
from jamhost.networks.cursors import route_poll, routes_due
from jamhost.networks.models import Delivery, NetworkCursor
from jamhost.posts.models import Post
from tests.factories import MembershipFactory, UserFactory, live_jam

from .conftest import link_bluesky, link_mastodon, routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def jam_on_both(networks: Any) -> Any:
    bsky, masto = networks
    jam = live_jam()
    blue, mast = routes(jam, bsky, masto, bluesky_tag="BlueJam")
    link_bluesky(bsky, jam.host)  # the host's account reads Bluesky's search
    return jam, blue, mast


def stored(jam: Any, source: str) -> list[Post]:
    return list(Post.objects.filter(jam=jam, source=source).order_by("seq"))


def test_tagged_posts_on_both_networks_are_stored_once_threaded_and_filed(
    networks: Any, jam_on_both: Any
) -> None:
    bsky, masto = networks
    jam, blue, mast = jam_on_both
    carol = bsky.account_add("carol.bsky.test", "Carol")
    first = bsky.post_add(carol, "A1: small steps #BlueJam", tags=["BlueJam"])
    bsky.post_add(carol, "and tests first #BlueJam", tags=["BlueJam"], reply_to=first)
    bsky.post_add(carol, "no tag here")
    dave = masto.account_add("dave", "Dave")
    erin = masto.account_add("erin", "Erin", domain="elsewhere.example")
    status = masto.status_add(dave, f"A1: from the fediverse {jam.tag}")
    masto.status_add(erin, f"agreed {jam.tag}", in_reply_to_id=status)
    masto.status_boost(erin, status)

    assert route_poll(route_id=blue.pk).stored == 2
    assert route_poll(route_id=mast.pk).stored == 2

    root, reply = stored(jam, "bluesky")
    assert root.author_handle == "carol.bsky.test" and root.question.number == 1
    assert root.remote_url.startswith("https://bsky.app/profile/")
    assert root.author_url.startswith("https://bsky.app/profile/")
    assert root.external_id == first
    assert reply.reply_to == root and reply.question.number == 1
    m_root, m_reply = stored(jam, "mastodon")
    assert m_root.author_handle == f"dave@{masto.domain}" and m_root.question.number == 1
    assert m_root.remote_url == f"{masto.base_url}/@dave/{status}"
    assert m_root.author_url == f"{masto.base_url}/@dave"
    assert m_reply.author_handle == "erin@elsewhere.example"
    assert m_reply.reply_to == m_root
    assert m_root.author is None
    # Ingested posts never go anywhere.
    assert Delivery.objects.filter(post__jam=jam).count() == 0

    again = [route_poll(route_id=blue.pk), route_poll(route_id=mast.pk)]
    assert [r.stored for r in again] == [0, 0]
    assert Post.objects.filter(jam=jam).exclude(source="app").count() == 4


def test_late_posts_are_found_by_a_later_poll(networks: Any, jam_on_both: Any) -> None:
    bsky, masto = networks
    jam, blue, mast = jam_on_both
    carol = bsky.account_add("carol.bsky.test")
    bsky.search_lag = 60
    bsky.post_add(carol, "late one #BlueJam", tags=["BlueJam"])
    bsky.search_lag = 0
    bsky.advance(1)
    bsky.post_add(carol, "on time #BlueJam", tags=["BlueJam"])
    dave = masto.account_add("dave")
    masto.status_add(dave, f"late one {jam.tag}", lag=60)
    masto.advance(1)
    masto.status_add(dave, f"on time {jam.tag}")

    assert route_poll(route_id=blue.pk).stored == 1
    assert route_poll(route_id=mast.pk).stored == 1
    bsky.advance(61)
    masto.advance(61)
    assert route_poll(route_id=blue.pk).stored == 1
    assert route_poll(route_id=mast.pk).stored == 1
    for source in ("bluesky", "mastodon"):
        assert sorted(p.text for p in stored(jam, source)) == [
            f"late one {'#BlueJam' if source == 'bluesky' else jam.tag}",
            f"on time {'#BlueJam' if source == 'bluesky' else jam.tag}",
        ]


def test_an_edited_status_updates_its_post_in_place(networks: Any, jam_on_both: Any) -> None:
    _, masto = networks
    jam, _, mast = jam_on_both
    dave = masto.account_add("dave")
    status = masto.status_add(dave, f"frist {jam.tag}")
    route_poll(route_id=mast.pk)
    (post,) = stored(jam, "mastodon")
    masto.status_edit(status, f"first {jam.tag}")
    assert route_poll(route_id=mast.pk).edited == 1
    (edited,) = stored(jam, "mastodon")
    assert edited.pk == post.pk and edited.text == f"first {jam.tag}"
    assert edited.edited_at is not None and edited.rev > post.rev


def test_a_fault_on_page_two_resumes_without_duplicates(networks: Any, jam_on_both: Any) -> None:
    bsky, _ = networks
    jam, blue, _ = jam_on_both
    carol = bsky.account_add("carol.bsky.test")
    for n in range(105):
        bsky.post_add(carol, f"post {n} #BlueJam", tags=["BlueJam"])
    bsky.fault_next("app.bsky.feed.searchPosts", "503", skip=1)

    first = route_poll(route_id=blue.pk)
    assert first.stored == 100 and first.error
    cursor = NetworkCursor.objects.get(route=blue)
    assert cursor.since == "" and cursor.next_page and cursor.pending_newest

    second = route_poll(route_id=blue.pk)
    assert second.stored == 5 and not second.error
    cursor.refresh_from_db()
    assert cursor.since and cursor.next_page == ""
    assert len(stored(jam, "bluesky")) == 105
    assert len({p.external_id for p in stored(jam, "bluesky")}) == 105


def test_429_pauses_the_route_until_its_reset(networks: Any, jam_on_both: Any) -> None:
    _, masto = networks
    jam, _, mast = jam_on_both
    masto.fault_next("/api/v1/timelines/tag", "429")
    result = route_poll(route_id=mast.pk)
    assert result.paused_until is not None
    assert result.paused_until > timezone.now() + timedelta(seconds=30)
    assert mast.pk not in routes_due(now=timezone.now())
    masto.status_add(masto.account_add("dave"), f"after the pause {jam.tag}")
    assert route_poll(route_id=mast.pk).stored == 0  # still paused: no request
    assert route_poll(route_id=mast.pk, now=result.paused_until + timedelta(seconds=1)).stored == 1


@pytest.mark.parametrize("fault", ["garbage", "500", "drop"])
def test_garbage_and_5xx_never_raise_and_later_polls_work(
    networks: Any, jam_on_both: Any, fault: str
) -> None:
    bsky, masto = networks
    jam, blue, mast = jam_on_both
    masto.fault_next("/api/v1/timelines/tag", fault)
    bsky.fault_next("app.bsky.feed.searchPosts", "malformed" if fault == "garbage" else fault)
    masto.status_add(masto.account_add("dave"), f"still here {jam.tag}")
    bsky.post_add(bsky.account_add("carol.bsky.test"), "still here #BlueJam", tags=["BlueJam"])
    for route in (blue, mast):
        failed = route_poll(route_id=route.pk)
        assert failed.error and failed.stored == 0
        assert NetworkCursor.objects.get(route=route).last_error
        assert route_poll(route_id=route.pk).stored == 1
        assert NetworkCursor.objects.get(route=route).last_error == ""


def test_a_members_linked_account_maps_the_post_to_the_member(
    networks: Any, jam_on_both: Any
) -> None:
    bsky, masto = networks
    jam, blue, mast = jam_on_both
    panelist = UserFactory(username="pat")
    MembershipFactory(jam=jam, user=panelist, role="panelist")
    account = link_mastodon(masto, panelist)
    b_account = link_bluesky(bsky, panelist)
    pat = next(a for a, v in masto.accounts.items() if v["username"] == "pat")
    masto.status_add(pat, f"written on mastodon {jam.tag}")
    bsky.post_add(b_account.remote_id, "written on bluesky #BlueJam", tags=["BlueJam"])
    route_poll(route_id=mast.pk)
    route_poll(route_id=blue.pk)
    for source in ("mastodon", "bluesky"):
        (post,) = stored(jam, source)
        assert post.author == panelist and post.author_role == "panelist"
        assert not Delivery.objects.filter(post=post).exists()  # it came from there
    assert account.handle == f"pat@{masto.domain}"


def test_mastodon_pages_move_since_to_the_newest_status_of_all_pages(
    networks: Any, jam_on_both: Any
) -> None:
    """min_id paging walks towards newer statuses: the last page holds the newest."""
    _, masto = networks
    jam, _, mast = jam_on_both
    dave = masto.account_add("dave")
    ids = [masto.status_add(dave, f"status {n} {jam.tag}") for n in range(45)]
    result = route_poll(route_id=mast.pk)
    assert result.stored == 45 and result.pages == 2
    assert NetworkCursor.objects.get(route=mast).since == max(ids, key=int)
    again = route_poll(route_id=mast.pk)
    assert again.stored == 0


def test_a_late_reply_is_threaded_to_a_post_stored_polls_ago(
    networks: Any, jam_on_both: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The parent is no longer in the page: Mastodon names it by its id on the instance."""
    bsky, masto = networks
    jam, blue, mast = jam_on_both
    dave = masto.account_add("dave")
    parent = masto.status_add(dave, f"A1: the parent {jam.tag}")
    carol = bsky.account_add("carol.bsky.test")
    b_parent = bsky.post_add(carol, "A1: the parent #BlueJam", tags=["BlueJam"])
    route_poll(route_id=mast.pk)
    route_poll(route_id=blue.pk)
    for server in (masto, bsky):
        server.advance(600)  # newer posts move the cursor well past the parent
    masto.status_add(dave, f"later {jam.tag}")
    bsky.post_add(carol, "later #BlueJam", tags=["BlueJam"])
    route_poll(route_id=mast.pk)
    route_poll(route_id=blue.pk)
    for server in (masto, bsky):
        server.advance(600)
    masto.status_add(masto.account_add("erin"), f"a reply {jam.tag}", in_reply_to_id=parent)
    bsky.post_add(carol, "a reply #BlueJam", tags=["BlueJam"], reply_to=b_parent)
    assert route_poll(route_id=mast.pk).stored == 1
    assert route_poll(route_id=blue.pk).stored == 1
    for source in ("mastodon", "bluesky"):
        first, _, reply = stored(jam, source)
        assert reply.reply_to == first and reply.question == first.question


def test_a_post_read_after_the_jam_was_archived_reaches_its_transcript(
    networks: Any, jam_on_both: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from jamhost.jams.lifecycle import jam_end
    from jamhost.transcripts.models import Transcript
    from jamhost.transcripts.tasks import archive_sweep

    bsky, masto = networks
    jam, blue, mast = jam_on_both
    with django_capture_on_commit_callbacks(execute=True):
        jam_end(jam=jam)  # archived at once: its transcript holds no network post
    assert Transcript.objects.filter(jam=jam).count() == 1
    # Within the ingest margin after the end, both networks' last posts come in.
    bsky.post_add(bsky.account_add("carol.bsky.test"), "A2: last word #BlueJam", tags=["BlueJam"])
    masto.status_add(masto.account_add("dave"), f"A2: and mine {jam.tag}")
    assert route_poll(route_id=blue.pk).stored == 1
    assert route_poll(route_id=mast.pk).stored == 1

    settings.TRANSCRIPT_REFRESH_MINUTES = 0
    archive_sweep.delay()
    latest = Transcript.objects.filter(jam=jam).order_by("-version").first()
    assert latest is not None and latest.version == 2
    assert "A2: last word #BlueJam" in latest.content
    assert f"A2: and mine {jam.tag}" in latest.content


def test_the_closing_reread_finds_what_reached_search_too_late_for_the_live_polls(
    networks: Any, jam_on_both: Any, settings: Any
) -> None:
    bsky, masto = networks
    jam, blue, mast = jam_on_both
    settings.NETWORK_REREAD_MINUTES = 60
    carol = bsky.account_add("carol.bsky.test")
    dave = masto.account_add("dave")
    # Ten minutes late to search, and federated ten minutes late; then posts on time.
    bsky.search_lag = 600
    bsky.post_add(carol, "A1: slow to index #BlueJam", tags=["BlueJam"])
    bsky.search_lag = 0
    masto.status_add(dave, f"A1: federated late {jam.tag}", lag=600)
    for server in (bsky, masto):
        server.advance(300)
    bsky.post_add(carol, "A1: on time #BlueJam", tags=["BlueJam"])
    masto.status_add(dave, f"A1: on time {jam.tag}")
    assert route_poll(route_id=blue.pk).stored == 1
    assert route_poll(route_id=mast.pk).stored == 1
    for server in (bsky, masto):
        server.advance(301)
    # Each search reaches 3 minutes behind the newest post seen: the late ones are older.
    assert route_poll(route_id=blue.pk).stored == 0
    assert route_poll(route_id=mast.pk).stored == 0

    ended = timezone.now() + timedelta(minutes=11)  # after every post, on any clock here
    Jam.objects.filter(pk=jam.pk).update(status=JamStatus.ENDED, ended_at=ended)
    # Written after the jam's ingest window closed: next week's chat, not this one's.
    bsky.post_add(
        carol, "next week #BlueJam", tags=["BlueJam"], created_at=ended + timedelta(minutes=20)
    )
    assert routes_due(now=ended + timedelta(minutes=30)) == []  # out of its window
    due_at = ended + timedelta(minutes=61)
    assert routes_due(now=due_at) == [blue.pk, mast.pk]
    blue_read, mast_read = (
        route_poll(route_id=blue.pk, now=due_at),
        route_poll(route_id=mast.pk, now=due_at),
    )
    assert (blue_read.reread, blue_read.stored, blue_read.duplicates) == (True, 1, 1)
    assert (mast_read.reread, mast_read.stored, mast_read.duplicates) == (True, 1, 1)
    assert sorted(p.text for p in stored(jam, "bluesky")) == [
        "A1: on time #BlueJam",
        "A1: slow to index #BlueJam",
    ]
    assert sorted(p.text for p in stored(jam, "mastodon")) == [
        f"A1: federated late {jam.tag}",
        f"A1: on time {jam.tag}",
    ]
    # Once only.
    assert routes_due(now=due_at + timedelta(minutes=1)) == []
    assert NetworkCursor.objects.get(route=blue).reread_at == due_at


def test_no_closing_reread_when_it_is_switched_off(
    networks: Any, jam_on_both: Any, settings: Any
) -> None:
    jam, blue, _ = jam_on_both
    settings.NETWORK_REREAD_MINUTES = 0
    ended = timezone.now()
    Jam.objects.filter(pk=jam.pk).update(status=JamStatus.ENDED, ended_at=ended)
    assert routes_due(now=ended + timedelta(minutes=61)) == []
    assert route_poll(route_id=blue.pk, now=ended + timedelta(minutes=61)).reread is False
