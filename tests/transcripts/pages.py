"""Reading the replay through HTTP as a browser (or a reader without JavaScript) would."""

from __future__ import annotations

import io
import re
from html import unescape
from html.parser import HTMLParser
from typing import Any

from django.utils import timezone

from bench.xjam import HOST, x_jam
from jamhost.jams.models import Jam
from jamhost.transcripts.importer import ImportOptions, rows_read, transcript_import
from tests.factories import UserFactory

PLACEHOLDER = re.compile(r'<a class="part-more" href="([^"]*)" data-src="([^"]*)"[^>]*>.*?</a>')


def big_jam(*, posts: int = 600, title: str = "Big jam", reply_every: int = 9) -> Jam:
    """A jam imported from saved X search results (bench/xjam.py): ten questions, a
    panel, a community with side conversations."""
    made = x_jam(posts=posts, reply_every=reply_every, start=timezone.now().replace(microsecond=0))
    options = ImportOptions(
        file_format="x", title=title, host_handle=HOST, panelists=made.panelists
    )
    rows = rows_read(source=io.BytesIO(made.dumps().encode()), file_format="x", options=options)
    return transcript_import(owner=UserFactory(), rows=rows, options=options)


def read(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


class Articles(HTMLParser):
    """The post fragments on a page, in document order, with the section, the heading and
    the side conversation (replies block) they are in."""

    def __init__(self) -> None:
        super().__init__()
        self.section = ""
        self.heading = ""
        self.thread = ""
        self.depth = 0
        self.thread_depth = -1
        self.posts: list[dict[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "div":
            self.depth += 1
            if "replies" in found.get("class", "").split():
                self.thread = found.get("data-thread", "")
                self.thread_depth = self.depth
        if "id" in found:
            self.ids.add(found["id"])
        if tag == "section" and "transcript-section" in found.get("class", ""):
            self.section = found["id"]
            self.heading = ""
        if tag == "h3" and "answers-head" in found.get("class", ""):
            self.heading = "pending"
        if tag == "article" and "post" in found.get("class", "").split():
            self.posts.append(
                dict(found, section=self.section, heading=self.heading, thread=self.thread)
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            if self.depth == self.thread_depth:
                self.thread = ""
                self.thread_depth = -1
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.heading == "pending":
            self.heading = data.strip()


def articles(html: str) -> Articles:
    page = Articles()
    page.feed(html)
    return page


def seqs(html: str) -> list[int]:
    return [int(p["data-seq"]) for p in articles(html).posts]


def expand(client: Any, html: str) -> tuple[str, int]:
    """The page with every placeholder swapped for what it loads, again and again until
    none is left (as replay.js does while the reader scrolls), and how many loads that took."""
    loads = 0
    while match := PLACEHOLDER.search(html):
        loads += 1
        fragment = read(client, unescape(match.group(2)))
        html = html[: match.start()] + fragment + html[match.end() :]
    return html, loads
