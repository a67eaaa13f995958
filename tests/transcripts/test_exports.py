from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from jamhost.jams.models import Jam
from jamhost.posts.models import Post, PostStatus
from jamhost.transcripts.exports import EXPORT_CSV_COLUMNS
from jamhost.transcripts.services import jam_archive
from tests.factories import live_jam
from tests.transcripts.conftest import HIDDEN_TEXT, PENDING_TEXT
from tests.transcripts.pages import expand, read

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2] / "jamhost/transcripts/schema/transcript-v1.json"
    ).read_text()
)


def download(client: Any, jam: Jam, fmt: str) -> tuple[Any, str]:
    response = client.get(f"/jams/{jam.slug}/transcript.{fmt}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return response, response.content.decode("utf-8-sig" if fmt == "csv" else "utf-8")


def visible_posts(jam: Jam) -> list[Post]:
    return list(
        Post.objects.filter(jam=jam, status=PostStatus.VISIBLE)
        .select_related("question")
        .order_by("seq")
    )


@pytest.fixture
def archived(ended_jam: Jam) -> Jam:
    jam_archive(jam_id=ended_jam.pk)
    return Jam.objects.get(pk=ended_jam.pk)


def test_csv_parses_back_to_the_visible_posts(client: Any, archived: Jam) -> None:
    response, body = download(client, archived, "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    # UTF-8 with a byte order mark, once, at the start: Excel then reads "ünïcode" and
    # "🎉" as they are instead of in the machine's legacy code page.
    assert response.content.startswith(b"\xef\xbb\xbfseq,time_utc,")
    assert response.content.count(b"\xef\xbb\xbf") == 1
    assert "Emoji 🎉 and ünïcode" in body
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert tuple(rows[0].keys()) == EXPORT_CSV_COLUMNS
    posts = visible_posts(archived)
    assert [int(r["seq"]) for r in rows] == [p.seq for p in posts]
    for row, post in zip(rows, posts, strict=True):
        assert row["time_utc"] == post.created_at.strftime("%Y-%m-%d %H:%M:%S")
        assert row["question"] == (f"Q{post.question.number}" if post.question else "")
        assert row["author_handle"] == post.author_handle
        assert row["author_name"] == post.author_name
        assert row["role"] == post.author_role
        assert row["text"] == post.text  # commas, quotes and a line break survive
        assert row["source"] == post.source
        assert row["pinned"] == ("true" if post.pinned else "false")
        assert row["featured"] == ("true" if post.featured else "false")
    x_row = next(r for r in rows if r["source"] == "x")
    assert x_row["link"] == "https://x.com/xperson/status/1790000000000000001"


def test_json_matches_its_schema_and_the_database(client: Any, archived: Jam) -> None:
    response, body = download(client, archived, "json")
    document = json.loads(body)
    jsonschema.validate(document, SCHEMA)
    assert response["ETag"].startswith('"' + archived.transcripts.get().content_hash)
    posts = visible_posts(archived)
    assert [p["seq"] for p in document["posts"]] == [p.seq for p in posts]
    for entry, post in zip(document["posts"], posts, strict=True):
        assert entry["text"] == post.text
        assert entry["author"]["handle"] == post.author_handle
        assert entry["author"]["role"] == post.author_role
        assert entry["question"] == (post.question.number if post.question else None)
        assert entry["pinned"] is post.pinned and entry["featured"] is post.featured
    assert [q["number"] for q in document["questions"]] == [1, 2]  # Q3 was never released
    assert document["not_shown"] == {"hidden": 1, "pending": 1}
    users = {m.user.username: m.user.pk for m in archived.memberships.select_related("user")}
    assert document["jam"]["panelists"] == [
        {"handle": "pat_remotejam", "name": "Pat Panel", "key": f"app:{users['pat_remotejam']}"},
        {"handle": "priya_remotejam", "name": "Priya", "key": f"app:{users['priya_remotejam']}"},
    ]
    x_post = next(p for p in document["posts"] if p["source"] == "x")
    assert x_post["links"] == ["https://example.com/coffee/"]
    assert x_post["metrics"] == {"like_count": 3}


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_standalone_and_holds_every_visible_post(client: Any, archived: Jam) -> None:
    _, body = download(client, archived, "html")
    page = Collector()
    page.feed(body)
    names = {tag for tag, _ in page.tags}
    assert "script" not in names and "link" not in names and "img" not in names
    assert not [a for _, a in page.tags if "src" in a]
    posts = visible_posts(archived)
    # Other hosts only through links: ones written in the posts, and the posts on X.
    post_links = {"https://x.com/xperson/status/1790000000000000001"}
    texts = " ".join(p.text for p in posts)
    for tag, attrs in page.tags:
        href = attrs.get("href")
        if href is None:
            continue
        if href.startswith("#"):
            assert href[1:] in {a.get("id") for _, a in page.tags}, href
        else:
            assert href in post_links or href in texts, href
            assert tag == "a", tag
    articles = [a for tag, a in page.tags if tag == "article"]
    assert [int(a["data-seq"] or 0) for a in articles] != []
    assert sorted(int(a["data-seq"] or 0) for a in articles) == [p.seq for p in posts]
    text = "".join(page.text)
    for post in posts:
        assert post.text.split("\n")[0] in text
    assert "<style>" in body


def test_markdown_lists_each_question_then_panelists_then_community(
    client: Any, archived: Jam
) -> None:
    response, body = download(client, archived, "md")
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    q1 = body.index("## Q1: What does a great day look like?")
    q2 = body.index("## Q2: Which tool saved you time?")
    assert body.index("## Other posts") < q1 < q2
    q1_part = body[q1:q2]
    lead = q1_part.index("### Panelists and featured answers")
    community = q1_part.index("### Community")
    assert lead < q1_part.index("@pat_remotejam, panelist") < community
    assert lead < q1_part.index("_featured_") < community  # a featured community answer
    assert community < q1_part.index("@xperson")
    assert "Deep work \\*first\\*" in q1_part  # markdown characters shown as written


def test_hidden_and_pending_posts_are_in_no_export(client: Any, archived: Jam) -> None:
    for fmt in ("json", "csv", "md", "html"):
        _, body = download(client, archived, fmt)
        assert HIDDEN_TEXT not in body, fmt
        assert PENDING_TEXT not in body, fmt
        assert "Deep work" in body, fmt
    html, _ = expand(client, read(client, f"/jams/{archived.slug}/transcript/"))
    assert HIDDEN_TEXT not in html and PENDING_TEXT not in html and "Deep work" in html


def test_two_downloads_are_byte_identical(client: Any, archived: Jam) -> None:
    for fmt in ("json", "csv", "md", "html"):
        assert download(client, archived, fmt)[1] == download(client, archived, fmt)[1]


def test_unknown_format_and_unended_jam_get_a_clear_answer(client: Any, db: Any) -> None:
    jam = live_jam()
    response = client.get(f"/jams/{jam.slug}/transcript.csv")
    assert response.status_code == 409
    assert "still live" in response.content.decode()
    response = client.get(f"/jams/{jam.slug}/transcript.pdf")
    assert response.status_code == 404
    assert "json, csv, md, html" in response.content.decode()
    assert client.get("/jams/no-such-jam/transcript.csv").status_code == 404
    Jam.objects.filter(pk=jam.pk).update(status="draft")  # a draft is not there for readers
    assert client.get(f"/jams/{jam.slug}/transcript.csv").status_code == 404
    assert client.get(f"/jams/{jam.slug}/transcript/").status_code == 404
    client.force_login(jam.host)
    response = client.get(f"/jams/{jam.slug}/transcript/")
    assert response.status_code == 409 and "still a draft" in response.content.decode()


def test_the_jam_page_links_to_the_replay_and_every_export(client: Any, archived: Jam) -> None:
    body = client.get(f"/jams/{archived.slug}/").content.decode()
    assert f'href="/jams/{archived.slug}/transcript/"' in body
    for fmt in ("html", "md", "csv", "json"):
        assert f'href="/jams/{archived.slug}/transcript.{fmt}"' in body
    assert 'href="/past/"' in body  # the past jams page, from every page's menu
