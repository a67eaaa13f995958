"""Moderation over the console socket: actions reach every console and every viewer,
refusals go back to the sender only, resends are applied once, and a viewer or a removed
moderator cannot act."""

from __future__ import annotations

import json
import logging

import pytest
from channels.db import database_sync_to_async

from jamhost.jams.models import Membership, ModerationMode, Role
from jamhost.posts.jam_rules import jam_switch_moderation_mode
from jamhost.posts.models import AuditEntry, Post, PostStatus
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.live.conftest import REMOVED, receive_until_caught_up, socket

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def make_jam():  # type: ignore[no-untyped-def]
    jam = live_jam()
    moderator = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    other = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    return jam, moderator, other


compose = database_sync_to_async(post_compose)


@database_sync_to_async
def switch_to_pre_moderation(jam) -> None:  # type: ignore[no-untyped-def]
    jam_switch_moderation_mode(jam=jam, actor=jam.host, mode=ModerationMode.PRE)


@database_sync_to_async
def fresh(post: Post) -> Post:
    return Post.objects.get(pk=post.pk)


@database_sync_to_async
def audit_count(**filters: object) -> int:
    return AuditEntry.objects.filter(**filters).count()


async def connect(path: str, user: object = None):  # type: ignore[no-untyped-def]
    ws = socket(path, user)
    connected, _ = await ws.connect()
    assert connected
    await receive_until_caught_up(ws)
    return ws


async def receive_notice(ws, timeout: float = 5) -> str:  # type: ignore[no-untyped-def]
    while True:
        frame = await ws.receive_from(timeout=timeout)
        if 'id="console-notice"' in frame:
            return frame


async def drain(ws, timeout: float = 0.5) -> list[str]:  # type: ignore[no-untyped-def]
    frames = []
    while not await ws.receive_nothing(timeout=timeout):
        frames.append(await ws.receive_from())
    return frames


def action(name: str, post: Post, **extra: object) -> str:
    return json.dumps(
        {
            "action": name,
            "post": str(post.pk),
            "rev": str(post.rev),
            "HEADERS": {"HX-Request": "true"},
            **extra,
        }
    )


async def test_hide_on_one_console_reaches_every_console_and_viewer(hub: object) -> None:
    jam, moderator, other = await make_jam()
    post = await compose(jam=jam, user=await database_sync_to_async(UserFactory)(), body="rude")
    viewer = await connect(f"/ws/jams/{jam.slug}/live/?after={post.rev}")
    mine = await connect(f"/ws/jams/{jam.slug}/console/?after={post.rev}", moderator)
    theirs = await connect(f"/ws/jams/{jam.slug}/console/?after={post.rev}", other)

    await mine.send_to(text_data=action("hide", post, reason="rude"))

    notice = await receive_notice(mine)
    assert "hidden" in notice and 'class="console-notice ok"' in notice
    stored = await fresh(post)
    assert stored.status == PostStatus.HIDDEN and stored.rev > post.rev
    viewer_frame = await viewer.receive_from(timeout=5)
    assert REMOVED.search(viewer_frame) and f'data-rev="{stored.rev}"' in viewer_frame
    their_frame = await theirs.receive_from(timeout=5)
    assert f'id="post-{post.pk}"' in their_frame and 'data-status="hidden"' in their_frame
    assert 'value="restore"' in their_frame
    # The notice went to the acting socket only (consoles also get viewer counts).
    assert not [f for f in await drain(theirs) if "console-notice" in f]
    for ws in (viewer, mine, theirs):
        await ws.disconnect()


async def test_approve_in_pre_moderation_shows_the_post_to_viewers(hub: object) -> None:
    jam, moderator, _ = await make_jam()
    await switch_to_pre_moderation(jam)
    author = await database_sync_to_async(UserFactory)()
    post = await compose(jam=jam, user=author, body="Held back")
    assert post.status == PostStatus.PENDING
    viewer = await connect(f"/ws/jams/{jam.slug}/live/?after={post.rev}")
    console = await connect(f"/ws/jams/{jam.slug}/console/?after={post.rev}", moderator)
    await console.send_to(text_data=action("approve", post))
    frame = await viewer.receive_from(timeout=5)
    assert f'id="post-{post.pk}"' in frame and "Held back" in frame
    await viewer.disconnect()
    await console.disconnect()


async def test_resent_action_is_applied_once(hub: object) -> None:
    jam, moderator, _ = await make_jam()
    post = await compose(jam=jam, user=await database_sync_to_async(UserFactory)(), body="pin")
    console = await connect(f"/ws/jams/{jam.slug}/console/?after={post.rev}", moderator)
    frame = action("pin", post)
    await console.send_to(text_data=frame)
    assert "pinned" in await receive_notice(console)
    # Unpinned meanwhile by someone else; then the first frame arrives again (a resend
    # after a reconnect): it must not pin the post again.
    await console.send_to(text_data=action("unpin", await fresh(post)))
    assert "unpinned" in await receive_notice(console)
    await console.disconnect()

    again = await connect(f"/ws/jams/{jam.slug}/console/?after={post.rev}", moderator)
    await again.send_to(text_data=frame)
    assert "Already done" in await receive_notice(again)
    assert not (await fresh(post)).pinned
    assert await audit_count(action="pin") == 1
    await again.disconnect()


async def test_bad_frames_get_a_refusal_and_the_socket_stays_open(hub: object) -> None:
    jam, moderator, _ = await make_jam()
    author = await database_sync_to_async(UserFactory)()
    post = await compose(jam=jam, user=author, body="mine")
    elsewhere = await database_sync_to_async(live_jam)()
    foreign = await compose(jam=elsewhere, user=author, body="elsewhere")
    console = await connect(f"/ws/jams/{jam.slug}/console/?after={post.rev}", moderator)
    cases = [
        ("not json", "could not read"),
        ("[1, 2]", "could not read"),
        ("x" * 20_000, "could not read"),
        (json.dumps({"action": "hide"}), "missing"),
        (json.dumps({"action": "hide", "post": "abc"}), "must be a number"),
        (json.dumps({"action": "hide", "post": ["1", "2"]}), "not readable"),
        (json.dumps({"action": "hide", "post": "999999"}), "no post 999999"),
        (json.dumps({"action": "hide", "post": str(foreign.pk)}), "another jam"),
        (json.dumps({"action": "nuke", "post": str(post.pk)}), "no console action"),
        (json.dumps({"post": str(post.pk)}), "missing"),
        (json.dumps({"action": "mode", "mode": "pre"}), "host can switch the moderation mode"),
    ]
    for text, expected in cases:
        await console.send_to(text_data=text)
        notice = await receive_notice(console)
        assert expected in notice and "error" in notice, (text[:40], notice)
    await console.send_to(bytes_data=b"\x00\x01")
    assert "could not read" in await receive_notice(console)
    assert (await fresh(foreign)).status == PostStatus.VISIBLE
    # Still open and still working.
    await console.send_to(text_data=action("pin", post))
    assert "pinned" in await receive_notice(console)
    await console.disconnect()


async def test_viewer_socket_action_is_refused_and_logged(
    hub: object, caplog: pytest.LogCaptureFixture
) -> None:
    jam, _, _ = await make_jam()
    post = await compose(jam=jam, user=await database_sync_to_async(UserFactory)(), body="x")
    viewer = await connect(f"/ws/jams/{jam.slug}/live/?after={post.rev}")
    from prometheus_client import REGISTRY

    def counted() -> float:
        labels = {"reason": "viewer_frame"}
        return REGISTRY.get_sample_value("jamhost_refused_total", labels) or 0.0

    before = counted()
    with caplog.at_level(logging.INFO, logger="jamhost.live.consumers"):
        for _ in range(20):  # a flood of frames is counted, and logged once
            await viewer.send_to(text_data=action("hide", post))
        assert await viewer.receive_nothing(timeout=0.5)
    lines = [r.message for r in caplog.records if "viewer socket" in r.message]
    assert len(lines) == 1 and "'hide' action" in lines[0], lines
    assert counted() == before + 20
    assert (await fresh(post)).status == PostStatus.VISIBLE
    assert await audit_count() == 0
    await viewer.disconnect()


async def test_moderator_removed_mid_jam_is_refused_and_cut_off(
    hub: object, caplog: pytest.LogCaptureFixture
) -> None:
    jam, moderator, _ = await make_jam()
    post = await compose(jam=jam, user=await database_sync_to_async(UserFactory)(), body="x")
    console = await connect(f"/ws/jams/{jam.slug}/console/?after={post.rev}", moderator)
    # Removed without the notification reaching the socket first (the race the re-check
    # at action time is for).
    await database_sync_to_async(Membership.objects.filter(jam=jam, user=moderator).delete)()
    with caplog.at_level(logging.WARNING, logger="jamhost.live.consumers"):
        await console.send_to(text_data=action("hide", post))
        notice = await receive_notice(console)
        assert "not a moderator" in notice
        closed = await console.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4403}
    assert (await fresh(post)).status == PostStatus.VISIBLE
    assert any("not a moderator" in r.message for r in caplog.records)


@pytest.mark.parametrize(
    ("role", "may"),
    [
        ("host", True),
        ("moderator", True),
        ("staff", True),
        ("panelist", False),
        ("participant", False),
        ("anonymous", False),
    ],
)
async def test_console_actions_follow_the_permission_matrix(
    hub: object, role: str, may: bool
) -> None:
    """Who may moderate over the socket, as README's "Who may do what" says: the host, the
    jam's moderators and staff act; a panelist, a participant or a visitor never reach a
    console, so nothing they send can change a post."""
    jam, moderator, _ = await make_jam()

    @database_sync_to_async
    def user_for_role() -> object:
        return {
            "host": lambda: jam.host,
            "moderator": lambda: moderator,
            "staff": lambda: UserFactory(is_staff=True),
            "panelist": lambda: MembershipFactory(jam=jam, role=Role.PANELIST).user,
            "participant": lambda: UserFactory(),
            "anonymous": lambda: None,
        }[role]()

    user = await user_for_role()
    post = await compose(jam=jam, user=await database_sync_to_async(UserFactory)(), body="x")
    ws = socket(f"/ws/jams/{jam.slug}/console/?after={post.rev}", user)
    connected, code = await ws.connect()
    if may:
        assert connected
        await receive_until_caught_up(ws)
        await ws.send_to(text_data=action("pin", post))
        assert 'class="console-notice ok"' in await receive_notice(ws)
        assert (await fresh(post)).pinned
        assert await audit_count(action="pin") == 1
        await ws.disconnect()
    else:
        assert not connected and code == 4403, (connected, code)
        assert not (await fresh(post)).pinned
        assert await audit_count() == 0
