"""Bluesky and Mastodon posts in the transcript: the snapshot keeps where each post came
from and went, and the replay, exports and insights show it (http(s) links only)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from jamhost.jams.models import Jam
from jamhost.posts.models import AuthorRole, Post, Source
from jamhost.posts.services import post_insert
from jamhost.transcripts.exports import export_csv, export_html, export_markdown
from jamhost.transcripts.parts import post_from_snapshot
from jamhost.transcripts.services import jam_archive, transcript_verified
from jamhost.transcripts.snapshot import snapshot_build
from tests.transcripts.conftest import build_jam

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2] / "jamhost/transcripts/schema/transcript-v1.json"
    ).read_text()
)
SKY_POST = "https://bsky.app/profile/alice.bsky.social/post/3kabc"
SKY_PROFILE = "https://bsky.app/profile/alice.bsky.social"
TOOT = "https://mastodon.example/@bob/110"
BOB = "https://mastodon.example/@bob"


def add_network_posts(jam: Jam) -> None:
    when = jam.ended_at - timedelta(minutes=5)
    for source, handle, url, profile in (
        (Source.BLUESKY, "alice.bsky.social", SKY_POST, SKY_PROFILE),
        (Source.MASTODON, "bob@mastodon.example", TOOT, BOB),
        (Source.MASTODON, "eve@evil.example", "javascript:alert(1)", "javascript:alert(2)"),
    ):
        post = post_insert(
            jam=jam,
            author_key=f"{source}:{handle}",
            author_handle=handle,
            author_name=handle[:3].title(),
            author_role=AuthorRole.PARTICIPANT,
            body=f"Hi from {source}",
            text=f"Hi from {source} #{jam.hashtag}",
            source=source,
            external_id=url,
            now=when,
        )
        Post.objects.filter(pk=post.pk).update(remote_url=url, author_url=profile)
    mine = Post.objects.filter(jam=jam, source=Source.APP, kind="post").order_by("seq").first()
    assert mine is not None
    Post.objects.filter(pk=mine.pk).update(
        elsewhere={
            "bluesky": {"status": "published", "url": "https://bsky.app/profile/x/post/9"},
            "mastodon": {"status": "failed", "url": "", "error": "Too long"},
        }
    )


@pytest.fixture
def jam() -> Jam:
    jam = build_jam()
    add_network_posts(jam)
    return jam


def test_snapshot_keeps_origin_links_and_where_posts_went(jam: Jam) -> None:
    snapshot = snapshot_build(jam)
    jsonschema.validate(snapshot, SCHEMA)
    by_handle = {p["author"]["handle"]: p for p in snapshot["posts"]}
    alice = by_handle["alice.bsky.social"]
    assert (alice["source"], alice["link"], alice["author"]["url"]) == (
        "bluesky",
        SKY_POST,
        SKY_PROFILE,
    )
    eve = by_handle["eve@evil.example"]
    assert eve["link"] == "" and "url" not in eve["author"]
    went = [p for p in snapshot["posts"] if "elsewhere" in p]
    assert [p["elsewhere"] for p in went] == [
        {
            "bluesky": {"status": "published", "url": "https://bsky.app/profile/x/post/9"},
            "mastodon": {"status": "failed", "url": ""},
        }
    ]
    # A jamhost post that went nowhere else carries no new keys (older hashes hold).
    plain = [p for p in snapshot["posts"] if p["source"] == "app" and "elsewhere" not in p]
    assert plain and not any("url" in p["author"] for p in plain)


def test_old_snapshot_entries_still_render(jam: Jam) -> None:
    entry = next(p for p in snapshot_build(jam)["posts"] if "elsewhere" in p)
    entry.pop("elsewhere", None)
    entry["author"].pop("url", None)
    post = post_from_snapshot(entry, {})
    assert post.author_url == "" and post.elsewhere == {}


def test_exports_name_the_networks(jam: Jam) -> None:
    snapshot = snapshot_build(jam)
    rows = list(csv.DictReader(io.StringIO(export_csv(snapshot).lstrip("\ufeff"), newline="")))
    by_handle = {r["author_handle"]: r for r in rows}
    assert (by_handle["alice.bsky.social"]["network"], by_handle["alice.bsky.social"]["url"]) == (
        "bluesky",
        SKY_POST,
    )
    assert by_handle["eve@evil.example"]["url"] == "none"
    went = [r for r in rows if "bluesky" in r["network"] and r["source"] == "app"]
    assert [(r["network"], r["url"]) for r in went] == [
        ("bluesky", "https://bsky.app/profile/x/post/9")
    ]
    x_row = by_handle["xperson"]
    assert x_row["network"] == "x" and x_row["url"].startswith("https://x.com/xperson/status/")
    markdown = export_markdown(snapshot)
    assert f"([Bluesky]({SKY_POST}))" in markdown and f"([profile]({SKY_PROFILE}))" in markdown
    assert f"([Mastodon]({TOOT}))" in markdown
    assert "javascript:" not in markdown
    html = export_html(snapshot)
    assert f'<a class="badge net net-bluesky" href="{SKY_POST}">Bluesky</a>' in html
    assert (
        f'<a class="profile" href="{BOB}"><span class="handle">@bob@mastodon.example</span></a>'
        in html
    )
    assert "javascript:" not in html


def test_replay_and_insights_show_networks(client: Any, jam: Jam) -> None:
    jam_archive(jam_id=jam.pk)
    transcript_verified(jam=jam)
    page = client.get(f"/jams/{jam.slug}/transcript/")
    html = b"".join(page.streaming_content).decode() if page.streaming else page.content.decode()
    assert '<span class="net-badge net-bluesky">Bluesky</span>' in html
    assert f'<a class="net-origin" href="{SKY_POST}"' in html
    assert f'<a class="handle" href="{SKY_PROFILE}"' in html
    assert (
        'href="https://bsky.app/profile/x/post/9"' in html
        and "Not on Mastodon: Too long" not in html
    )
    assert "javascript:" not in html
    assert "Posts by network:" in html
    assert '<span class="net-mastodon">Mastodon <strong>2</strong></span>' in html
    assert f'<a href="{SKY_PROFILE}" rel="noopener">@alice.bsky.social</a>' in html
