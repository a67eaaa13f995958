"""Replaying a recorded jam into a live one: the demo recording, rehearsals, and the
first-run replay on the embedded server's own event loop."""

from __future__ import annotations

import asyncio
import json
from io import StringIO
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.management import CommandError, call_command

from jamhost.jams import lifecycle
from jamhost.jams.models import Role
from jamhost.posts.models import AuthorRole, Kind, Post, Source
from jamhost.posts.rehearsal import (
    DEMO_RECORDING,
    RecordingError,
    recording_load,
    recording_parse,
    recording_replay,
    recording_replay_async,
)
from tests.factories import JamFactory, MembershipFactory, UserFactory, live_jam
from tests.live.conftest import hub, post_ids, receive_until_caught_up, socket  # noqa: F401


def recording(*posts: dict[str, Any], hashtag: str = "OldTag") -> str:
    return json.dumps({"jam": {"hashtag": hashtag}, "posts": list(posts)})


def post(at: str, text: str, **extra: Any) -> dict[str, Any]:
    author = extra.pop("author", {"handle": "sam", "name": "Sam", "role": "participant"})
    return {"time": f"2026-03-12T17:{at}Z", "kind": "post", "author": author, "text": text, **extra}


def test_the_demo_recording_loads_in_time_order() -> None:
    demo = recording_load(DEMO_RECORDING)
    assert demo.hashtag == "RemoteWorkJam"
    assert len(demo.posts) > 20
    assert [p.at for p in demo.posts] == sorted(p.at for p in demo.posts)
    assert demo.posts[0].at == 0 and 240 < demo.seconds < 400
    assert [p.question for p in demo.posts if p.kind == Kind.QUESTION] == [3, 4, 5]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{nope", "Not JSON"),
        ("[]", "“posts” list"),
        (recording(), "no posts"),
        (recording(post("00:00", "hi", time="yesterday")), "ISO 8601"),
        (recording(post("00:00", "hi", kind="reply")), "“kind”"),
        (recording(post("00:00", "hi", question="3")), "question number"),
        (recording(post("00:00", "", author={"handle": "sam"})), "text is empty"),
        (recording(post("00:00", "hi", author={"handle": "no spaces"})), "handle"),
        (recording(post("00:00", "hi", author={"handle": "sam", "role": "boss"})), "role"),
        (recording({"time": "2026-03-12T17:00:00Z", "kind": "question"}), "needs its number"),
    ],
)
def test_a_bad_recording_says_what_to_fix(raw: str, message: str) -> None:
    with pytest.raises(RecordingError, match=message):
        recording_parse(raw)


@pytest.mark.django_db
def test_replay_releases_questions_and_posts_under_the_live_jams_hashtag() -> None:
    jam = live_jam(questions=3, released=1, hashtag="NewTag")
    pat = UserFactory(username="pat_p", first_name="Pat")
    MembershipFactory(jam=jam, user=pat, role=Role.PANELIST)
    rec = recording_parse(
        recording(
            post("00:02", "A1: Mornings are for deep work #OldTag", question=1),
            {
                "time": "2026-03-12T17:00:05Z",
                "kind": "question",
                "question": 2,
                "author": {"handle": "host"},
                "text": "Q2: …",
            },
            post("00:07", "A2: Templates!", question=2, author={"handle": "pat_p"}),
            post("00:09", "A9: a question this jam never asks", question=9),
            post("00:00", "First, by time, though listed last"),
        )
    )
    slept: list[float] = []
    played = recording_replay(slug=jam.slug, recording=rec, speed=1000, sleep=slept.append)
    assert played == 5
    assert all(0 <= s <= 0.01 for s in slept)
    posts = list(Post.objects.filter(jam=jam).order_by("seq").select_related("question"))
    texts = [p.text for p in posts]
    # Q1's release, then the recording in time order, with Q2 released by it.
    assert texts[1:] == [
        "First, by time, though listed last #NewTag",
        "A1: Mornings are for deep work #NewTag",
        f"Q2: {jam.questions.get(number=2).text} #NewTag",
        "A2: Templates! #NewTag",
        "A9: a question this jam never asks #NewTag",
    ]
    assert [p.seq for p in posts] == sorted(p.seq for p in posts)
    sam = posts[1]
    assert (sam.author_id, sam.author_key, sam.author_handle) == (None, "replay:sam", "sam")
    assert sam.author_role == AuthorRole.PARTICIPANT and sam.source == Source.IMPORT
    assert posts[2].question is not None and posts[2].question.number == 1
    # A handle that is a real member posts as that member, with their role in this jam.
    assert (posts[4].author_id, posts[4].author_role) == (pat.pk, AuthorRole.PANELIST)
    assert posts[5].question is None
    jam.refresh_from_db()
    assert jam.current_question is not None and jam.current_question.number == 2


@pytest.mark.django_db
def test_replayed_answers_follow_their_prefix_even_before_the_question_is_out() -> None:
    """A recording that does not say which question a post answers (an older export or
    a hand-made file) is read with the shared answer-prefix rule; an answer to a question
    of the run-sheet not released yet is filed under it, a number the run-sheet lacks
    answers nothing."""
    jam = live_jam(questions=3, released=1)
    rec = recording_parse(
        recording(
            post("00:01", "@host A 1: first"),
            post("00:02", "a3) ahead of its question"),
            post("00:03", "A7: not in the run-sheet"),
        )
    )
    assert recording_replay(slug=jam.slug, recording=rec, speed=1000, sleep=lambda s: None) == 3
    posts = Post.objects.filter(jam=jam, kind=Kind.POST).order_by("seq")
    assert [p.question.number if p.question else None for p in posts] == [1, 3, None]
    assert not jam.questions.get(number=3).is_released


@pytest.mark.django_db
def test_replay_stops_when_the_jam_is_no_longer_live() -> None:
    jam = live_jam(questions=1, released=1)
    rec = recording_parse(recording(post("00:00", "one"), post("00:30", "two")))

    def end_the_jam(seconds: float) -> None:
        lifecycle.jam_end(jam=jam)

    assert recording_replay(slug=jam.slug, recording=rec, speed=1, sleep=end_the_jam) == 1
    assert list(Post.objects.filter(jam=jam, kind=Kind.POST).values_list("body", flat=True)) == [
        "one"
    ]


@pytest.mark.django_db
def test_the_command_refuses_a_jam_that_is_not_live_and_replays_a_live_one() -> None:
    draft = JamFactory()
    with pytest.raises(CommandError, match="not live"):
        call_command("replay_into", draft.slug)
    with pytest.raises(CommandError, match="No jam"):
        call_command("replay_into", "no-such-jam")
    jam = live_jam(questions=1, released=1)
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("replay_into", jam.slug, "/nonexistent/recording.json")
    out = StringIO()
    call_command("replay_into", jam.slug, str(DEMO_RECORDING), "--speed", "100", stdout=out)
    demo = recording_load(DEMO_RECORDING)
    answers = sum(1 for p in demo.posts if p.kind == Kind.POST)
    assert f"Done: {len(demo.posts)} posts replayed." in out.getvalue()
    assert Post.objects.filter(jam=jam, kind=Kind.POST).count() == answers


@database_sync_to_async
def demo_jam() -> Any:
    return live_jam(questions=5, released=2)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("hub")
async def test_the_first_run_replay_reaches_sockets_on_the_servers_loop() -> None:
    jam = await demo_jam()
    viewer = socket(f"/ws/jams/{jam.slug}/live/?after={jam.rev}")
    assert (await viewer.connect())[0]
    await receive_until_caught_up(viewer)
    rec = await database_sync_to_async(recording_load)(DEMO_RECORDING)

    async def no_wait(seconds: float) -> None:
        await asyncio.sleep(0)

    await recording_replay_async(slug=jam.slug, recording=rec, speed=1, sleep=no_wait)
    frames: list[str] = []
    while len(post_ids(frames)) < len(rec.posts):
        frames.append(await viewer.receive_from(timeout=5))
    text = "".join(frames)
    assert "Q5: " in text
    assert "a wrap!" in text
    await viewer.disconnect()
