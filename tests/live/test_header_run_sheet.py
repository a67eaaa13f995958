"""A question added while the jam is live gets its "next question" countdown, on open
pages (the header arrives on the live path) and on fresh loads (the header is rendered
anew, not served from the render cache of the header before). The same holds when the
host edits, removes or reorders questions not yet released."""

from __future__ import annotations

import re

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from jamhost.jams import run_sheet
from tests.factories import live_jam
from tests.live.conftest import receive_until_caught_up, socket

pytestmark = [pytest.mark.django_db(transaction=True)]
NEXT_AT = re.compile(r'data-next-at="([^"]+)"')


def next_at(html: str) -> str | None:
    found = NEXT_AT.search(html)
    return found.group(1) if found else None


def room_header(jam) -> str:  # type: ignore[no-untyped-def]
    page = Client().get(reverse("live:room", args=[jam.slug])).content.decode()
    return page[page.index('<section id="jam-header"') :].split("</section>", 1)[0]


@database_sync_to_async
def all_released_jam():  # type: ignore[no-untyped-def]
    jam = live_jam(questions=2, released=2)
    assert next_at(room_header(jam)) is None  # nothing left to count down to
    return jam


async def test_a_question_added_live_gets_its_countdown_on_open_and_fresh_pages(
    hub: object,
) -> None:
    jam = await all_released_jam()
    viewer = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    assert (await viewer.connect())[0]
    await receive_until_caught_up(viewer)

    question = await database_sync_to_async(run_sheet.question_add)(
        jam=jam, text="One more, added live?", offset_minutes=40
    )

    frame = await viewer.receive_from(timeout=5)
    due = question.release_at.isoformat()
    assert next_at(frame) == due
    assert "Next question" in frame
    fresh = await database_sync_to_async(room_header)(jam)
    assert next_at(fresh) == due and "Next question" in fresh
    await viewer.disconnect()


async def test_editing_removing_and_reordering_live_move_the_countdown(hub: object) -> None:
    jam = await database_sync_to_async(live_jam)(questions=3, released=1)  # Q2 +40, Q3 +50
    q2, q3 = await database_sync_to_async(lambda: list(jam.questions.order_by("number")[1:]))()
    viewer = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    assert (await viewer.connect())[0]
    await receive_until_caught_up(viewer)
    assert next_at(await database_sync_to_async(room_header)(jam)) == q2.release_at.isoformat()

    await database_sync_to_async(run_sheet.question_update)(
        question=q2, text=q2.text, offset_minutes=55
    )
    q2.offset_minutes = 55
    # Q3 (+50) now comes first: the countdown follows the time, not the number.
    assert next_at(await viewer.receive_from(timeout=5)) == q3.release_at.isoformat()
    assert next_at(await database_sync_to_async(room_header)(jam)) == q3.release_at.isoformat()

    await database_sync_to_async(run_sheet.question_delete)(question=q3)
    assert next_at(await viewer.receive_from(timeout=5)) == q2.release_at.isoformat()

    q4 = await database_sync_to_async(run_sheet.question_add)(
        jam=jam, text="Late addition?", offset_minutes=45
    )
    assert next_at(await viewer.receive_from(timeout=5)) == q4.release_at.isoformat()
    ids = await database_sync_to_async(
        lambda: list(jam.questions.order_by("number").values_list("pk", flat=True))
    )()
    await database_sync_to_async(run_sheet.question_reorder)(
        jam=jam, ordered_ids=[ids[0], ids[2], ids[1]]
    )
    # Reordering moves questions between the places' times (the one moved to the +45 slot
    # is next); the header says so on the live path and on a fresh load.
    frame = await viewer.receive_from(timeout=5)
    fresh = await database_sync_to_async(room_header)(jam)
    assert next_at(frame) == next_at(fresh) == q4.release_at.isoformat()
    await viewer.disconnect()
