"""A jam's embed on the live path: the socket its page names gets posts as they arrive (the
room's fragment, caught up from the page's rev), and its reader counts as a viewer."""

from __future__ import annotations

import re

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from jamhost.jams.models import Jam, Role
from jamhost.live.presence import presence_tick
from jamhost.posts.services import post_compose
from tests.factories import JamFactory, MembershipFactory, live_jam
from tests.live.conftest import receive_post_ids, receive_until_caught_up, socket

pytestmark = [pytest.mark.django_db(transaction=True)]

compose = database_sync_to_async(post_compose)


@database_sync_to_async
def make_jam() -> tuple[Jam, object, object]:
    jam = live_jam(released=1)
    moderator = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    return jam, moderator, panelist


@database_sync_to_async
def embed_page(jam: Jam, query: str = "") -> str:
    return Client().get(reverse("live:embed", args=[jam.slug]) + query).content.decode()


def socket_path(html: str) -> str:
    path = re.search(r'ws-connect="([^"]+)"', html)
    rev = re.search(r'data-live-room data-rev="(\d+)"', html)
    assert path and rev, html[:500]
    return f"{path.group(1)}?after={rev.group(1)}"


async def test_posts_reach_the_embed_as_they_arrive_and_a_missed_one_on_reconnect(
    hub: object,
) -> None:
    jam, _, panelist = await make_jam()
    html = await embed_page(jam, "?show=answers&theme=dark")
    embed = socket(socket_path(html))
    assert (await embed.connect())[0]
    await receive_until_caught_up(embed)

    answer = await compose(jam=jam, user=panelist, body="A live answer")
    frame = await embed.receive_from(5)
    # The room's own fragment: the same article the room's page and sockets show.
    assert f'id="post-{answer.pk}"' in frame and "A live answer" in frame
    assert f'data-rev="{answer.rev}"' in frame and 'data-question="1"' in frame
    await embed.disconnect()

    # Reconnecting from the last rev seen gets exactly what was missed.
    missed = await compose(jam=jam, user=panelist, body="Missed while away")
    again = socket(f"/ws/jams/{jam.slug}/live/?after={answer.rev}")
    assert (await again.connect())[0]
    frames = await receive_until_caught_up(again)
    assert f'id="post-{missed.pk}"' in "".join(frames)
    assert f'id="post-{answer.pk}"' not in "".join(frames)
    later = await compose(jam=jam, user=panelist, body="And live again")
    assert await receive_post_ids(again, 1) == [later.pk]
    await again.disconnect()


async def test_a_reader_of_the_embed_counts_as_a_viewer(hub: object) -> None:
    jam, moderator, _ = await make_jam()
    console = socket(f"/ws/jams/{jam.slug}/console/?after={jam.rev}", moderator)
    assert (await console.connect())[0]
    await receive_until_caught_up(console)
    await presence_tick(hub)  # type: ignore[arg-type]
    assert "1 viewer<" in await console.receive_from(5)

    embed = socket(socket_path(await embed_page(jam)))
    assert (await embed.connect())[0]
    await receive_until_caught_up(embed)
    await presence_tick(hub)  # type: ignore[arg-type]
    assert "2 viewers" in await console.receive_from(5)

    await embed.disconnect()
    await presence_tick(hub)  # type: ignore[arg-type]
    assert "1 viewer<" in await console.receive_from(5)
    await console.disconnect()


async def test_a_drafts_socket_is_refused_to_an_embed_without_a_session(hub: object) -> None:
    jam = await database_sync_to_async(JamFactory)()
    embed = socket(f"/ws/jams/{jam.slug}/live/?after=0")
    assert await embed.connect() == (False, 4403)
    await embed.disconnect()
