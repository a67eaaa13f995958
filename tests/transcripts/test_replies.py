"""Replies stay replies: in every export and in the replay a reply is marked as one and
placed under the post it answers, not listed among the answers."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest

from jamhost.jams.models import Jam
from jamhost.posts.models import AuthorRole, Post
from jamhost.posts.services import post_insert
from jamhost.transcripts.services import jam_archive
from tests.transcripts.pages import articles, expand, read

REPLY = "Agreed, mornings are for deep work"
REPLY_TO_REPLY = "Same here, and no calls before ten"
ANSWER_BY_REPLY = "A1: Replying to the question itself"


@pytest.fixture
def replied(ended_jam: Jam) -> Jam:
    """The ended jam, with a side conversation under Pat's answer to Q1 (a reply, and a
    reply to that reply as X has them), and a reply to Q1's own post (an answer)."""
    pat = Post.objects.get(jam=ended_jam, text__startswith="A1: Deep work")
    question = Post.objects.get(jam=ended_jam, kind="question", question__number=1)
    gus = pat.jam.posts.filter(author_handle__startswith="gus").first()
    assert gus is not None and gus.author is not None
    at = pat.created_at
    first = post_insert(
        jam=ended_jam,
        author=gus.author,
        author_role=AuthorRole.PARTICIPANT,
        body=REPLY,
        text=f"{REPLY} #RemoteJam",
        question=pat.question,
        reply_to=pat,
        now=at + timedelta(seconds=30),
    )
    post_insert(
        jam=ended_jam,
        author_key="x:77",
        author_handle="xfriend",
        author_name="X Friend",
        author_role=AuthorRole.PARTICIPANT,
        body=REPLY_TO_REPLY,
        text=f"{REPLY_TO_REPLY} #RemoteJam",
        question=pat.question,
        reply_to=first,
        source="x",
        external_id="1790000000000000099",
        now=at + timedelta(seconds=40),
    )
    post_insert(
        jam=ended_jam,
        author=gus.author,
        author_role=AuthorRole.PARTICIPANT,
        body=ANSWER_BY_REPLY,
        text=f"{ANSWER_BY_REPLY} #RemoteJam",
        question=question.question,
        reply_to=question,
        now=at + timedelta(seconds=50),
    )
    jam_archive(jam_id=ended_jam.pk)
    return ended_jam


def seq_of(jam: Jam, start: str) -> int:
    return Post.objects.get(jam=jam, text__startswith=start).seq


def test_the_csv_names_the_post_a_reply_answers(client: Any, replied: Jam) -> None:
    body = client.get(f"/jams/{replied.slug}/transcript.csv").content.decode()
    rows = {r["text"].split(" #")[0]: r for r in csv.DictReader(io.StringIO(body, newline=""))}
    assert rows[REPLY]["reply_to"] == str(seq_of(replied, "A1: Deep work"))
    assert rows[REPLY_TO_REPLY]["reply_to"] == str(seq_of(replied, REPLY))
    # A reply to a question's post is an answer to it, not a side conversation.
    assert rows[ANSWER_BY_REPLY]["reply_to"] == ""
    assert rows["A1: Deep work *first*, calls after_lunch."]["reply_to"] == ""


def test_the_csv_round_trip_keeps_replies(client: Any, replied: Jam, tmp_path: Any) -> None:
    from django.core.management import call_command

    from tests.factories import UserFactory

    first = client.get(f"/jams/{replied.slug}/transcript.csv").content
    path = tmp_path / "jam.csv"
    path.write_bytes(first)
    UserFactory(username="reimporter")
    call_command("import_transcript", str(path), "--host", "reimporter", "--hashtag", "RoundTrip")
    copy = Jam.objects.get(hashtag="RoundTrip")
    reply = Post.objects.get(jam=copy, text__startswith=REPLY)
    assert reply.reply_to is not None and reply.reply_to.text.startswith("A1: Deep work")
    again = client.get(f"/jams/{copy.slug}/transcript.csv").content
    assert again == first


def test_a_reply_must_name_an_earlier_row(tmp_path: Any, db: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from tests.factories import UserFactory

    UserFactory(username="importer")
    path = tmp_path / "jam.csv"
    path.write_text(
        "time_utc,author_handle,text,reply_to\n"
        "2026-03-01 18:00:00,ann,Hello #PodChat,\n"
        "2026-03-01 18:01:00,bob,Hi ann #PodChat,1\n"
        "2026-03-01 18:02:00,cy,Who? #PodChat,7\n"
        "2026-03-01 18:03:00,cy,What? #PodChat,x\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_transcript", str(path), "--host", "importer", stderr=err)
    assert "line 4: reply_to 7 is not the seq of an earlier row." in err.getvalue()
    assert "line 5: reply_to “x” is not the seq of a row." in err.getvalue()


def test_markdown_nests_replies_under_their_post(client: Any, replied: Jam) -> None:
    body = client.get(f"/jams/{replied.slug}/transcript.md").content.decode()
    lines = body.splitlines()
    answer = next(i for i, line in enumerate(lines) if "Deep work \\*first\\*" in line)
    assert lines[answer].startswith("- **Pat Panel**")
    assert lines[answer + 1].startswith("  - ↪ reply to @pat_remotejam: **Gus Guest**")
    assert REPLY in lines[answer + 1]
    assert lines[answer + 2].startswith("  - ↪ reply to @gus_remotejam: **X Friend**")
    # Not listed again among the community's answers; the reply to the question is one.
    assert body.count(REPLY) == 1
    community = body.split("## Q1")[1].split("### Community")[1].split("## Q2")[0]
    assert "- **Gus Guest** (@gus_remotejam)" in community and ANSWER_BY_REPLY in community


def test_the_html_export_places_replies_under_their_post(client: Any, replied: Jam) -> None:
    body = client.get(f"/jams/{replied.slug}/transcript.html").content.decode()
    pat = body.index(f'id="post-{seq_of(replied, "A1: Deep work")}"')
    block = body.index('<div class="replies" role="group" aria-label="Replies to @pat_remotejam">')
    reply = body.index(f'id="post-{seq_of(replied, REPLY)}"')
    assert pat < block < reply < body.index("<h3>Community</h3>", pat)
    assert '<span class="reply-to">↪ reply to @pat_remotejam</span>' in body
    assert '<span class="reply-to">↪ reply to @gus_remotejam</span>' in body
    assert body.count(REPLY) == 1


def test_the_replay_places_replies_under_their_post(client: Any, replied: Jam) -> None:
    full, _ = expand(client, read(client, f"/jams/{replied.slug}/transcript/"))
    page = articles(full)
    by_seq = {int(p["data-seq"]): p for p in page.posts}
    pat = seq_of(replied, "A1: Deep work")
    for text in (REPLY, REPLY_TO_REPLY):
        post = by_seq[seq_of(replied, text)]
        assert post["thread"] == str(pat)  # in the replies block under Pat's answer
        assert post["heading"] == "Panelists and featured answers"  # where Pat's answer is
    order = [int(p["data-seq"]) for p in page.posts]
    assert order.index(pat) + 1 == order.index(seq_of(replied, REPLY))
    assert order.index(seq_of(replied, REPLY)) + 1 == order.index(seq_of(replied, REPLY_TO_REPLY))
    assert by_seq[seq_of(replied, ANSWER_BY_REPLY)]["thread"] == ""  # an answer
    assert "↪ 2 replies to @pat_remotejam" in full
    # The index and the header count answers and replies apart, from the same numbers.
    assert re.search(r"Q1: What does a great day look like\?</a> <small>4 answers, 2 replies", full)
    assert "11 posts by 6 people · 2 questions · 2 replies" in full
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", full))
    assert (figures["Posts"], figures["People"], figures["Replies"]) == ("11", "6", "2")


def test_superscript_digits_are_not_a_seq(tmp_path: Any, db: Any) -> None:
    """ "⁰⁴⁵".isdigit() is true but int() refuses it: a plain problem, not a crash."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from tests.factories import UserFactory

    UserFactory(username="importer")
    path = tmp_path / "jam.csv"
    path.write_text(
        "seq,time_utc,author_handle,text,reply_to\n"
        "1,2026-03-01 18:00:00,ann,Hello #PodChat,\n"
        "⁰⁴⁵,2026-03-01 18:01:00,bob,Hi #PodChat,⁰¹\n",
        encoding="utf-8",
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_transcript", str(path), "--host", "importer", stderr=err)
    assert "line 3: seq “⁰⁴⁵” is not a whole number above 0." in err.getvalue()
    assert "line 3: reply_to “⁰¹” is not the seq of a row." in err.getvalue()
