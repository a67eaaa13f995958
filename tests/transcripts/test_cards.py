"""Shared links look good: jam pages, replays and permalinks carry Open Graph and X card
metadata, and the image they name is drawn here, once per transcript version."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any

from django.conf import settings
from django.core.cache import cache
from PIL import Image

from jamhost.jams.models import Jam
from jamhost.posts.models import Post, PostStatus
from jamhost.transcripts.card_image import drawable
from jamhost.transcripts.services import jam_archive
from tests.factories import live_jam
from tests.transcripts.pages import read

# Links follow the address the request came to when SITE_URL is unset (jamhost/links.py).
BASE = settings.SITE_URL or "http://testserver"


def meta(html: str) -> dict[str, str]:
    head = html.split("</head>")[0]
    found = re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', head)
    return {key: unescape(value) for key, value in found}


def image(client: Any, url: str) -> tuple[Any, Image.Image]:
    assert url.startswith(BASE + "/"), url
    response = client.get(url.removeprefix(BASE))
    assert response.status_code == 200, url
    assert response["Content-Type"] == "image/png"
    return response, Image.open(io.BytesIO(response.content))


def check_card(client: Any, html: str, *, url: str) -> dict[str, str]:
    tags = meta(html)
    assert tags["og:url"] == BASE + url
    assert tags["og:site_name"] == "jamhost"
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["og:title"] == tags["twitter:title"] and tags["og:title"]
    assert tags["og:description"] == tags["twitter:description"] and tags["og:description"]
    assert tags["og:image"] == tags["twitter:image"]
    assert tags["og:image:alt"] == tags["twitter:image:alt"]
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    _, picture = image(client, tags["og:image"])
    assert picture.size == (1200, 630)
    assert f'<link rel="canonical" href="{BASE}{url}">' in html
    return tags


def test_the_jam_page_and_live_room_have_a_card(client: Any, db: Any) -> None:
    jam = live_jam(title="Coffee Chat", hashtag="CoffeeChat")
    for path in (f"/jams/{jam.slug}/", f"/jams/{jam.slug}/live/"):
        tags = check_card(client, client.get(path).content.decode(), url=f"/jams/{jam.slug}/")
        assert tags["og:title"] == "Coffee Chat (#CoffeeChat)"
        assert f"@{jam.host.get_username()}" in tags["og:description"]
        assert jam.starts_at.strftime("%Y-%m-%d") in tags["og:description"]


def test_the_replay_has_a_card(client: Any, ended_jam: Jam) -> None:
    html = read(client, f"/jams/{ended_jam.slug}/transcript/")
    tags = check_card(client, html, url=f"/jams/{ended_jam.slug}/transcript/")
    assert tags["og:title"] == "Remote Work Jam (#RemoteJam): the transcript"
    assert tags["og:type"] == "article"
    assert "@host_remotejam" in tags["og:description"]


def test_a_post_permalink_has_a_card_of_the_post(client: Any, ended_jam: Jam) -> None:
    post = Post.objects.get(jam=ended_jam, text__startswith="A1: Deep work")
    url = f"/jams/{ended_jam.slug}/transcript/posts/{post.seq}/"
    tags = check_card(client, read(client, url), url=url)
    assert tags["og:title"].startswith("@pat_remotejam in #RemoteJam: A1: Deep work")
    assert tags["og:description"].startswith("Answering Q1: What does a great day look like?")
    assert "Deep work *first*" in tags["og:image:alt"]


def test_a_question_permalink_has_a_card_of_the_question(client: Any, ended_jam: Jam) -> None:
    url = f"/jams/{ended_jam.slug}/transcript/q2/"
    tags = check_card(client, read(client, url), url=url)
    assert tags["og:title"] == "Q2: Which tool saved you time? (#RemoteJam)"
    assert tags["og:image:alt"] == "Q2 of #RemoteJam: Which tool saved you time?"


def test_images_are_drawn_once_per_version(client: Any, ended_jam: Jam) -> None:
    post = Post.objects.get(jam=ended_jam, text__startswith="A1: Deep work")
    path = f"/jams/{ended_jam.slug}/transcript/posts/{post.seq}/card.png"
    first, _ = image(client, BASE + path)
    digest = first["ETag"].strip('"')
    version = ended_jam.transcripts.get().version
    assert cache.get(f"card:jam{ended_jam.pk}v{version}:{digest}") == first.content
    again, _ = image(client, BASE + path)
    assert again.content == first.content and again["ETag"] == first["ETag"]
    # A new version that changes the post draws a new image.
    Post.objects.filter(pk=post.pk).update(text="A1: Long walks, then deep work #RemoteJam")
    jam_archive(jam_id=ended_jam.pk)
    changed, _ = image(client, BASE + path)
    assert changed["ETag"] != first["ETag"] and changed.content != first.content
    assert cache.get(f"card:jam{ended_jam.pk}v{version + 1}:{changed['ETag'].strip(chr(34))}")


def test_no_card_image_for_what_a_reader_may_not_see(client: Any, ended_jam: Jam) -> None:
    hidden = Post.objects.get(jam=ended_jam, status=PostStatus.HIDDEN)
    path = f"/jams/{ended_jam.slug}/transcript/posts/{hidden.seq}/card.png"
    assert client.get(path).status_code == 404
    jam = live_jam()
    Jam.objects.filter(pk=jam.pk).update(status="draft")
    assert client.get(f"/jams/{jam.slug}/card.png").status_code == 404


def test_characters_the_font_lacks_are_left_out() -> None:
    assert drawable("Coffee ☕ time 🎉 café") == ("Coffee time café", 2 / 16)
    text, lost = drawable("日本語のテキスト")
    assert text == "" and lost == 1.0
    assert drawable("Ελληνικά и кириллица")[1] == 0.0
