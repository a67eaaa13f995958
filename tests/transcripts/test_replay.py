from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jamhost.jams.models import Jam
from jamhost.posts.models import Post
from jamhost.transcripts.layout import PART_POSTS
from jamhost.transcripts.services import jam_archive
from tests.transcripts.conftest import build_jam
from tests.transcripts.pages import articles, expand


def replay(client: Any, jam: Jam) -> str:
    response = client.get(f"/jams/{jam.slug}/transcript/")
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def whole(client: Any, jam: Jam) -> str:
    """The replay with every part loaded, as after scrolling to the end."""
    html, _ = expand(client, replay(client, jam))
    return html


def test_replay_groups_posts_by_question_with_the_live_fragment(
    client: Any, ended_jam: Jam
) -> None:
    html = whole(client, ended_jam)
    page = articles(html)
    by_seq = {int(p["data-seq"]): p for p in page.posts}
    posts = {p.seq: p for p in Post.objects.filter(jam=ended_jam)}
    seq = {p.text.split(" #")[0][:12]: s for s, p in posts.items()}
    assert [p["section"] for p in page.posts][:2] == ["other", "other"]
    q1 = [p for p in page.posts if p["section"] == "q1"]
    # The question, then featured and panelist answers, then the community.
    assert q1[0]["class"].split()[:3] == ["post", "role-host", "kind-question"]
    assert [int(p["data-seq"]) for p in q1[1:]] == [
        seq["A1: A walk, "],  # featured, so first
        seq["A1: Deep wor"],
        seq["A1: Coffee. "],
    ]
    assert [p["heading"] for p in q1[1:]] == [
        "Panelists and featured answers",
        "Panelists and featured answers",
        "Community",
    ]
    assert "featured" in by_seq[seq["A1: A walk, "]]["class"]
    assert "pinned" in by_seq[seq["A2: He said "]]["class"]
    # Every fragment carries what the player needs: its seq and its time.
    times = re.findall(r'<time class="rel-time" datetime="([^"]+)"', html)
    assert len(times) == len(page.posts) == 8
    for needed in ("replay-play", "replay-scrubber", "replay-jump", "replay-stream"):
        assert needed in page.ids
    assert 'value="16"' in html and 'value="4"' in html
    assert "/static/js/replay.js" in html
    assert 'id="q2"' in html and 'href="#q2"' in html


def test_replay_query_count_does_not_grow_with_posts(
    client: Any, ended_jam: Jam, django_assert_num_queries: Any
) -> None:
    jam_archive(jam_id=ended_jam.pk)
    # jam, the version for the link preview, latest version, its content, earlier authors,
    # the stored first part; then the parsed snapshot and the part are kept in the process.
    with django_assert_num_queries(6):
        small = replay(client, ended_jam)
    with django_assert_num_queries(4):
        again = replay(client, ended_jam)
    assert again.split("</header>", 2)[2] == small.split("</header>", 2)[2]
    t0 = timezone.now()
    Post.objects.bulk_create(
        Post(
            jam=ended_jam,
            seq=1000 + n,
            rev=1000 + n,
            author_key=f"import:p{n}",
            author_handle=f"p{n}",
            body="x",
            text=f"later post {n}",
            created_at=t0 + timedelta(seconds=n),
        )
        for n in range(120)
    )
    jam_archive(jam_id=ended_jam.pk)  # a new version holds the new posts
    with django_assert_num_queries(6):
        large = replay(client, ended_jam)
    # The page holds one part of the transcript; the rest arrive as the reader scrolls.
    assert large.count('<article class="post') == PART_POSTS
    assert whole(client, ended_jam).count('<article class="post') == 8 + 120


def test_insights_show_what_happened(client: Any, ended_jam: Jam) -> None:
    html = replay(client, ended_jam)
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", html))
    # 8 posts (two of them the questions' posts) by 5 people (the host asked).
    assert figures == {
        "Posts": "8",
        "People": "5",
        "Questions": "2",
        "Replies": "0",
        "Links shared": "2",
    }
    # The header counts the same things as the insights (one selector).
    assert "8 posts by 5 people · 2 questions · 1 hidden by moderators" in html
    # Posts per minute: a bar per busy minute (every post counted) and a marker per release.
    assert html.count('<rect class="bar"') == 8
    assert re.findall(r'<g class="release">.*?<text[^>]*>(Q\d)</text>', html) == ["Q1", "Q2"]
    # Top contributor first.
    top = re.search(
        r"<h3>Top contributors</h3>\s*<ol class=\"bars\"><li><span class=\"who\">"
        r"@(\w+)",
        html,
    )
    assert top and top.group(1) == "gus_remotejam"
    # Coverage: Pat answered Q1 only, Priya Q2 only.
    rows = re.findall(r'<tr><th scope="row">@(\w+)</th>(.*?)</tr>', html)
    coverage = {who: re.findall(r'class="(hit|miss)"', cells) for who, cells in rows}
    assert coverage == {"pat_remotejam": ["hit", "miss"], "priya_remotejam": ["miss", "hit"]}
    # First answers: Q1 a minute after release, Q2 a minute after.
    assert re.findall(
        r'href="#q(\d)">Q\d</a></span>\s*<svg[^>]*>.*?</svg><span class="n">([^<]+)', html
    ) == [("1", "1m 00s"), ("2", "1m 00s")]
    # Links: expanded, de-duplicated (tracking and trailing dots dropped), counted.
    links = re.findall(
        r'<li><a href="([^"]+)" rel="noopener nofollow">[^<]*</a>'
        r'(?: <span class="badge">×(\d+)</span>)?',
        html,
    )
    assert links == [("https://example.com/notes", "2"), ("https://example.com/coffee", "")]
    # New faces: everyone, first time in #RemoteJam; the X author links to their profile.
    assert '<a href="https://x.com/xperson" rel="noopener">@xperson</a>' in html
    faces = html.split("New faces to follow")[1].split("</section>")[0]
    assert "@gus_remotejam" in faces and "@pat_remotejam" not in faces  # panelists aside


def test_a_returning_participant_is_not_a_new_face(client: Any, db: Any) -> None:
    earlier = build_jam(hashtag="SeriesJam")
    Jam.objects.filter(pk=earlier.pk).update(starts_at=earlier.starts_at - timedelta(days=7))
    earlier.refresh_from_db()
    later = build_jam(title="Week two", hashtag="seriesjam", x_status_id="1790000000000000002")
    guest_key = Post.objects.filter(jam=earlier, author_handle="gus_seriesjam").first()
    assert guest_key is not None
    Post.objects.filter(jam=later, author_handle="gus_seriesjam").update(
        author_key=guest_key.author_key
    )
    faces = replay(client, later).split("New faces to follow")[1].split("</section>")[0]
    assert "@gus_seriesjam" not in faces
    first_time = replay(client, earlier).split("New faces to follow")[1].split("</section>")[0]
    assert "@gus_seriesjam" in first_time
    assert "@xperson" not in faces  # posted in the earlier jam too (same X user)


def test_replay_states_the_jams_deletion_policy(client: Any, ended_jam: Jam) -> None:
    assert "their posts here are shown as a deleted user" in replay(client, ended_jam)
    Jam.objects.filter(pk=ended_jam.pk).update(deleted_author_policy="remove")
    html = replay(client, ended_jam)
    assert "If someone deletes their jamhost account, their posts here are removed" in html


def test_replay_of_a_jam_not_ended_explains_why(client: Any, db: Any) -> None:
    from tests.factories import live_jam

    jam = live_jam()
    response = client.get(f"/jams/{jam.slug}/transcript/")
    assert response.status_code == 409
    assert "end it first" in response.content.decode()


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_page_streams_part_by_part(async_client: Any) -> None:
    from asgiref.sync import sync_to_async

    jam = await sync_to_async(build_jam)()
    response = await async_client.get(f"/jams/{jam.slug}/transcript/")
    assert response.status_code == 200
    assert response.is_async  # Django would otherwise read it all before the first byte
    parts = [part async for part in response.streaming_content]
    assert len(parts) == 3  # the page's top, then the player, insights and first part, then the end
    top = parts[0].decode()
    assert "Remote Work Jam" in top and "<article" not in top.split('class="replay"')[1]
    page = b"".join(parts).decode()
    assert page.count('<article class="post') == 2 and page.rstrip().endswith("</html>")


def test_parts_rendered_after_archiving_are_served_as_stored(
    client: Any, ended_jam: Jam, django_capture_on_commit_callbacks: Any
) -> None:
    from jamhost.transcripts.memo import memo_clear
    from jamhost.transcripts.models import TranscriptPart

    rendered_live = whole(client, ended_jam)  # archives now, renders parts in the requests
    assert not TranscriptPart.objects.exists()
    Post.objects.filter(jam=ended_jam, text__startswith="Emoji").update(text="Changed #RemoteJam")
    with django_capture_on_commit_callbacks(execute=True):
        transcript = jam_archive(jam_id=ended_jam.pk)  # a new version, rendered on commit
    stored = {p.name: p.html for p in TranscriptPart.objects.filter(transcript=transcript)}
    assert set(stored) == {"other/1", "q1/1", "q2/1", "play/1", "shapes"}
    assert "Changed #RemoteJam" in stored["other/1"]
    assert sum(stored[name].count("<article") for name in ("other/1", "q1/1", "q2/1")) == 8
    assert stored["play/1"].count("<article") == 8
    TranscriptPart.objects.filter(name="other/1").update(html=stored["other/1"] + "<!-- stored -->")
    memo_clear()  # a fresh process: the parts come from the database
    page = whole(client, ended_jam)
    assert stored["other/1"] + "<!-- stored -->" in page
    assert page.count("<article") == rendered_live.count("<article")
    # Parts made by other templates are not used.
    TranscriptPart.objects.update(fingerprint="0" * 64, html="<p>stale</p>")
    memo_clear()
    page = whole(client, ended_jam)
    assert "<p>stale</p>" not in page and "Changed #RemoteJam" in page


def test_a_panelist_answering_from_their_linked_x_account_counts_once(
    client: Any, ended_jam: Jam
) -> None:
    """Ingest gives an X post from a panelist's linked account the panelist's author key
    under their X handle: coverage counts it for the panelist, with no second row."""
    from jamhost.posts.models import AuthorRole, Source
    from jamhost.posts.services import post_insert

    pat = ended_jam.memberships.get(user__username="pat_remotejam").user
    q2 = ended_jam.questions.get(number=2)
    post_insert(
        jam=ended_jam,
        author=pat,
        author_handle="pat_on_x",
        author_name="Pat on X",
        author_role=AuthorRole.PANELIST,
        body="A2: A timer, honestly.",
        text="A2: A timer, honestly. #RemoteJam",
        question=q2,
        source=Source.X,
        external_id="1790000000000000777",
        now=ended_jam.ended_at - timedelta(minutes=30),
    )
    html = replay(client, ended_jam)
    rows = re.findall(r'<tr><th scope="row">@(\w+)</th>(.*?)</tr>', html)
    coverage = {who: re.findall(r'class="(hit|miss)"', cells) for who, cells in rows}
    assert coverage == {"pat_remotejam": ["hit", "hit"], "priya_remotejam": ["miss", "hit"]}
