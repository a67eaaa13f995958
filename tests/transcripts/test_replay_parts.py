"""The replay of a large jam: one part on the page, the rest loaded on demand, every post
reachable once (by the placeholders, by the player's pages, and without JavaScript by
links), permalinks that open the replay at a post or a question, replies under their post."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest

from jamhost.jams.models import Jam
from jamhost.posts.models import Post, PostStatus
from jamhost.transcripts.layout import PAGE_POSTS, PART_POSTS
from jamhost.transcripts.services import jam_archive
from tests.transcripts.pages import PLACEHOLDER, articles, big_jam, expand, read, seqs


@pytest.fixture
def big(db: Any) -> Jam:
    return big_jam(posts=600)


def visible_seqs(jam: Jam) -> list[int]:
    return list(
        Post.objects.filter(jam=jam, status=PostStatus.VISIBLE)
        .order_by("seq")
        .values_list("seq", flat=True)
    )


def test_the_page_holds_one_part_and_every_post_arrives_once(client: Any, big: Jam) -> None:
    page = read(client, f"/jams/{big.slug}/transcript/")
    assert 0 < len(seqs(page)) <= PART_POSTS
    sections = re.findall(r'<section class="transcript-section[^"]*" id="([^"]+)"', page)
    assert sections == [f"q{n}" for n in range(1, 11)]
    # Every section but the first is a placeholder, itself a link to the section's page.
    assert len(PLACEHOLDER.findall(page)) == 10
    full, loads = expand(client, page)
    shown = seqs(full)
    assert sorted(shown) == visible_seqs(big)  # every post
    assert len(shown) == len(set(shown))  # none twice
    parts = re.findall(r'<div class="part" id="part-(q\d+)-(\d+)"', full)
    assert loads == len(parts) - 1  # each part fetched once
    # Sections in order, each one's parts in order.
    order = [(int(q[1:]), int(n)) for q, n in parts]
    assert order == sorted(order)
    assert all(int(n) <= 2 for _, n in parts) and len(parts) > 10  # ~60 posts a question


def test_a_permalink_in_the_middle_loads_both_ways_once(client: Any, big: Jam) -> None:
    layout_seq = visible_seqs(big)
    # A community post of Q4, in its section's second part.
    page = read(client, f"/jams/{big.slug}/transcript/q4/?part=2")
    assert 'id="part-q4-2"' in page and 'id="part-q4-1"' not in page
    srcs = [unescape(src) for _, src in PLACEHOLDER.findall(page)]
    # Sections above the focus load from their end (as a reader scrolling up meets them).
    assert all(src.endswith("?from=end") for src in srcs[:3])
    assert not any(src.endswith("?from=end") for src in srcs[4:])
    full, _ = expand(client, page)
    shown = seqs(full)
    assert sorted(shown) == layout_seq and len(shown) == len(set(shown))
    assert full.index('id="part-q4-1"') < full.index('id="part-q4-2"')


def test_player_pages_hold_every_post_once_in_the_order_they_arrived(client: Any, big: Jam) -> None:
    page = read(client, f"/jams/{big.slug}/transcript/")
    player = re.search(r'<section class="player card" id="player"[^>]*>', page)
    assert player
    attrs = dict(re.findall(r'(data-[\w-]+)="([^"]*)"', player.group(0)))
    starts = json.loads(unescape(attrs["data-pages"]))
    assert len(starts) == -(-600 // PAGE_POSTS) and starts == sorted(starts)
    played: list[int] = []
    for number in range(1, len(starts) + 1):
        chunk = read(client, f"{attrs['data-play-url']}{number}/")
        got = seqs(chunk)
        assert len(got) <= PAGE_POSTS
        times = re.findall(r'<time class="rel-time" datetime="([^"]+)"', chunk)
        assert len(times) == len(got)  # the player reads each post's time
        played += got
    assert played == visible_seqs(big)  # every post, once, as they arrived
    missing = client.get(f"{attrs['data-play-url']}{len(starts) + 1}/")
    assert missing.status_code == 404


def test_a_part_of_an_older_version_is_gone(client: Any, big: Jam) -> None:
    page = read(client, f"/jams/{big.slug}/transcript/")
    src = unescape(PLACEHOLDER.findall(page)[0][1])
    assert client.get(src).status_code == 200
    post = Post.objects.filter(jam=big, kind="post").order_by("seq").first()
    assert post is not None
    Post.objects.filter(pk=post.pk).update(status=PostStatus.HIDDEN)
    jam_archive(jam_id=big.pk)  # version 2
    answer = client.get(src)
    assert answer.status_code == 410
    assert "updated since the page was opened" in answer.content.decode()
    play = re.search(r'data-play-url="([^"]+)"', page)
    assert play and client.get(play.group(1) + "1/").status_code == 410
    # Out-of-range parts are refused plainly.
    assert client.get(src.replace("/v1/", "/v2/").replace("/2-", "/9-")).status_code == 404
    assert client.get(src.replace("/v1/", "/v2/")).status_code == 200


def test_without_javascript_every_part_is_a_link_away(client: Any, big: Jam) -> None:
    start = f"/jams/{big.slug}/transcript/"
    seen: set[int] = set()
    pages = [start]
    visited: set[str] = set()
    while pages:
        path = pages.pop()
        if path in visited:
            continue
        visited.add(path)
        html = read(client, path)
        for seq in seqs(html):
            seen.add(seq)
        for href, _ in PLACEHOLDER.findall(html):
            pages.append(unescape(href).split("#")[0])
    assert sorted(seen) == visible_seqs(big)
    assert len(visited) <= 2 * 20  # section pages, not a crawl of every post


def test_replies_are_under_their_post_not_among_the_answers(client: Any, big: Jam) -> None:
    full, _ = expand(client, read(client, f"/jams/{big.slug}/transcript/"))
    page = articles(full)
    replies = {
        p.seq: p.reply_to.seq
        for p in Post.objects.filter(jam=big, reply_to__isnull=False).select_related("reply_to")
    }
    assert len(replies) > 20
    position = {int(p["data-seq"]): i for i, p in enumerate(page.posts)}
    for post in page.posts:
        seq = int(post["data-seq"])
        if seq in replies:
            # In a replies block hung under the post it answers, after that post.
            root = int(post["thread"])
            assert root == replies[seq] or replies[seq] in replies
            assert position[root] < position[seq]
            assert "↪ in a side conversation" in full.split(f'id="post-{seq}"')[1][:3000]
        else:
            assert post["thread"] == ""
    # The question index counts answers and replies apart.
    index = re.search(r'<nav class="question-index.*?</nav>', full, re.S)
    assert index and re.search(r"Q1: .*?</a> <small>\d+ answers, \d+ repl(y|ies)</small>", index[0])
    counts = re.search(r'id="replay-counts">([^<]+)<', full)
    assert counts and f"· {len(replies)} replies" in counts.group(1)


def test_a_post_permalink_opens_the_replay_there(client: Any, big: Jam) -> None:
    post = Post.objects.filter(jam=big, kind="post", question__number=7).order_by("-seq")[0]
    page = read(client, f"/jams/{big.slug}/transcript/posts/{post.seq}/")
    assert f'id="post-{post.seq}"' in page  # its part is on the page
    player = re.search(r'<section class="player card" id="player"[^>]*>', page)
    assert player
    assert f'data-focus-seq="{post.seq}"' in player.group(0)
    start = re.search(r'data-start="([^"]+)"', player.group(0))
    at = re.search(r'data-focus-at="(\d+)"', player.group(0))
    assert start and at
    from datetime import datetime

    expected = (post.created_at - datetime.fromisoformat(start.group(1))).total_seconds()
    assert int(at.group(1)) == int(expected * 1000)  # the player waits at the post's moment
    assert f'href="#post-{post.seq}">go to it</a>' in page
    # Each post in the replay links to its permalink.
    assert f'class="permalink" href="/jams/{big.slug}/transcript/posts/{post.seq}/"' in page
    # Hidden or unknown posts are not there.
    hidden = Post.objects.filter(jam=big, kind="post").order_by("seq")[3]
    Post.objects.filter(pk=hidden.pk).update(status=PostStatus.HIDDEN)
    jam_archive(jam_id=big.pk)
    gone = client.get(f"/jams/{big.slug}/transcript/posts/{hidden.seq}/")
    assert gone.status_code == 404
    assert "not in this jam's transcript" in unescape(gone.content.decode())
    assert client.get(f"/jams/{big.slug}/transcript/posts/999999/").status_code == 404


def test_a_question_permalink_opens_the_replay_at_its_release(client: Any, big: Jam) -> None:
    question = big.questions.get(number=3)
    page = read(client, f"/jams/{big.slug}/transcript/q3/")
    assert 'id="part-q3-1"' in page
    question_post = Post.objects.get(jam=big, kind="question", question=question)
    assert f'data-focus-seq="{question_post.seq}"' in page
    option = re.search(r'<option value="([\d.]+)">Q3: ', page)
    at = re.search(r'data-focus-at="(\d+)"', page)
    assert option and at and int(at.group(1)) == int(float(option.group(1)) * 1000)
    # The section heading is the question's permalink.
    assert f'<a class="section-link" href="/jams/{big.slug}/transcript/q3/">' in page
    assert client.get(f"/jams/{big.slug}/transcript/q42/").status_code == 404
    assert client.get(f"/jams/{big.slug}/transcript/q3/?part=9").status_code == 404


def test_render_transcripts_stores_the_current_versions_parts(big: Jam) -> None:
    from django.core.management import call_command

    from jamhost.transcripts.models import Transcript, TranscriptPart

    TranscriptPart.objects.all().delete()  # as after a deploy with new templates
    Post.objects.filter(jam=big, seq=5).update(status=PostStatus.HIDDEN)
    jam_archive(jam_id=big.pk)  # version 2, rendered on commit (not here: no commit)
    call_command("render_transcripts", verbosity=0)
    latest = Transcript.objects.get(jam=big, version=2)
    names = set(TranscriptPart.objects.filter(transcript=latest).values_list("name", flat=True))
    assert {"q1/1", "q10/1", "play/1", "play/6"} <= names
    assert not TranscriptPart.objects.exclude(transcript=latest).exists()
    call_command("render_transcripts", verbosity=0)  # idempotent
    assert TranscriptPart.objects.count() == len(names)


def test_a_stored_part_is_served_without_reading_the_snapshot(
    client: Any, big: Jam, django_assert_num_queries: Any
) -> None:
    from jamhost.transcripts.memo import memo_clear
    from jamhost.transcripts.models import Transcript, TranscriptPart
    from jamhost.transcripts.services import transcript_render

    page = read(client, f"/jams/{big.slug}/transcript/")
    src = unescape(PLACEHOLDER.findall(page)[0][1])
    rendered_on_demand = read(client, src)
    transcript = Transcript.objects.get(jam=big)
    transcript_render(transcript_id=transcript.pk)  # what the task does after archiving
    memo_clear()  # a fresh web process
    with django_assert_num_queries(3):  # the jam, its current version, the part and shapes
        stored = read(client, src)
    assert stored == rendered_on_demand
    with django_assert_num_queries(3):
        assert seqs(read(client, f"/jams/{big.slug}/transcript/v1/play/2/"))[0] == 101
    # A new version's parts replace the old ones, which are never served again.
    Post.objects.filter(jam=big, seq=7).update(status=PostStatus.HIDDEN)
    newer = jam_archive(jam_id=big.pk)
    transcript_render(transcript_id=newer.pk)
    assert not TranscriptPart.objects.filter(transcript=transcript).exists()
    assert TranscriptPart.objects.filter(transcript=newer).count() > 20
    assert client.get(src).status_code == 410
