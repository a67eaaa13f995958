"""Insights for the replay page, computed from the snapshot (and one query for who is new).

Charts are drawn on the server as SVG geometry, so the page needs no chart library and
no script to show them.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jamhost.posts.models import Kind, Source
from jamhost.posts.weblinks import web_url
from jamhost.transcripts.selectors import TranscriptCounts, transcript_counts
from jamhost.transcripts.snapshot import Snapshot, is_reply, parse_iso, threadable

CHART_WIDTH = 720
CHART_HEIGHT = 160
CHART_PAD = 24
MAX_MINUTES = 24 * 60
MAX_BARS = 120  # a long jam's minutes are binned, so the chart stays a few hundred elements
TOP_CONTRIBUTORS = 10
NEW_FACES = 24
LINKS_SHOWN = 25
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "ref_src")


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    minute: int
    count: int
    last_minute: int = 0

    @property
    def span(self) -> str:
        if self.last_minute > self.minute:
            return f"minutes {self.minute}–{self.last_minute}"
        return f"minute {self.minute}"


@dataclass
class Marker:
    x: float
    label: str
    text: str


@dataclass
class PerMinuteChart:
    bars: list[Bar]
    markers: list[Marker]
    peak: int
    minutes: int
    bin_minutes: int = 1
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    baseline: float = CHART_HEIGHT - CHART_PAD


@dataclass
class Person:
    key: str
    handle: str
    name: str
    role: str
    posts: int
    profile_url: str
    share: float = 0.0
    network: str = ""  # where the person posted from: "X", "Bluesky", "Mastodon" or ""


@dataclass
class Coverage:
    handle: str
    name: str
    answered: list[bool]
    count: int


@dataclass
class FirstAnswer:
    number: int
    text: str
    seconds: int | None
    share: float = 0.0

    @property
    def label(self) -> str:
        if self.seconds is None:
            return "no answer"
        minutes, seconds = divmod(self.seconds, 60)
        return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


@dataclass
class SharedLink:
    url: str
    count: int


@dataclass
class Insights:
    chart: PerMinuteChart
    counts: TranscriptCounts
    top: list[Person]
    questions: list[dict[str, Any]]
    coverage: list[Coverage]
    first_answers: list[FirstAnswer]
    links: list[SharedLink]
    links_total: int = 0
    new_faces: list[Person] = field(default_factory=list)
    # (network, posts) for each source the jam's posts came from, most first.
    by_network: list[tuple[str, int]] = field(default_factory=list)


def link_normalise(url: str) -> str:
    """One spelling per address: lower-case scheme and host, no fragment, no tracking
    parameters, no trailing slash on the path."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query = [(k, v) for k, v in query if not k.lower().startswith(_TRACKING)]
    path = parts.path.rstrip("/") if parts.path not in ("", "/") else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, urlencode(query), ""))


NETWORK_NAMES = {
    Source.APP: "jamhost",
    Source.X: "X",
    Source.BLUESKY: "Bluesky",
    Source.MASTODON: "Mastodon",
    Source.IMPORT: "Imported",
}


def profile_url(handle: str, sources: set[str], url: str = "") -> str:
    """The person's profile on their network: the one the network gave (http(s) only),
    or x.com/<handle> for X authors."""
    return web_url(url) or (f"https://x.com/{handle}" if Source.X in sources else "")


def network_of(sources: set[str]) -> str:
    for source in (Source.X, Source.BLUESKY, Source.MASTODON):
        if source in sources:
            return NETWORK_NAMES[source]
    return ""


def posts_by_network(posts: list[dict[str, Any]]) -> list[tuple[str, int]]:
    counts = Counter(NETWORK_NAMES.get(p["source"], str(p["source"])) for p in posts)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _chart(snapshot: Snapshot, start: datetime, end: datetime) -> PerMinuteChart:
    """Posts per minute, every post counted (as the figures above it count them); a jam
    longer than MAX_BARS minutes gets one bar per few minutes."""
    minutes = max(1, min(MAX_MINUTES, math.ceil((end - start).total_seconds() / 60) or 1))
    per_bar = math.ceil(minutes / MAX_BARS)
    counts = [0] * math.ceil(minutes / per_bar)
    for post in snapshot["posts"]:
        minute = int((parse_iso(post["time"]) - start).total_seconds() // 60)
        counts[max(0, min(minutes - 1, minute)) // per_bar] += 1
    peak = max(counts) or 1
    inner_w = CHART_WIDTH - 2 * CHART_PAD
    inner_h = CHART_HEIGHT - 2 * CHART_PAD
    step = inner_w / minutes
    bars = []
    for index, count in enumerate(counts):
        height = inner_h * count / peak
        minute = index * per_bar
        bars.append(
            Bar(
                x=round(CHART_PAD + minute * step, 2),
                y=round(CHART_HEIGHT - CHART_PAD - height, 2),
                width=round(max(step * per_bar - 1, 0.5), 2),
                height=round(height, 2),
                minute=minute,
                count=count,
                last_minute=min(minutes, minute + per_bar) - 1,
            )
        )
    markers = []
    for question in snapshot["questions"]:
        if not question["released_at"]:
            continue
        offset = (parse_iso(question["released_at"]) - start).total_seconds() / 60
        offset = max(0.0, min(float(minutes), offset))
        markers.append(
            Marker(
                x=round(CHART_PAD + offset * step, 2),
                label=f"Q{question['number']}",
                text=question["text"],
            )
        )
    return PerMinuteChart(
        bars=bars, markers=markers, peak=max(counts), minutes=minutes, bin_minutes=per_bar
    )


def _coverage(
    panelists: list[dict[str, Any]],
    ranked: list[Person],
    answers: list[dict[str, Any]],
    questions: list[dict[str, Any]],
) -> list[Coverage]:
    """Which released questions each panelist answered. A panelist is one person under
    whatever name they posted: their jamhost handle, or the X handle of their linked
    account. Posts are matched by author key (snapshots keep each panelist's), then by
    handle (older snapshots, imports); a key seen on a post under a panelist's handle
    stands for that panelist too. Authors with the panelist role who are not on the jam's
    panel (imports) get a row of their own."""
    panel: dict[str, tuple[str, str]] = {}
    for p in panelists:
        panel[p.get("key") or f"@{p['handle']}"] = (p["handle"], p["name"])
    alias: dict[str, str] = {}
    for post in answers:
        author = post["author"]
        if author["key"] not in panel and f"@{author['handle']}" in panel:
            alias.setdefault(author["key"], f"@{author['handle']}")
    for person in ranked:
        known = person.key in panel or person.key in alias or f"@{person.handle}" in panel
        if person.role == "panelist" and not known:
            panel[person.key] = (person.handle, person.name)

    def member(author: dict[str, Any]) -> str | None:
        key = author["key"]
        if key in panel:
            return str(key)
        if key in alias:
            return alias[key]
        handle = f"@{author['handle']}"
        return handle if handle in panel else None

    answered: dict[str, Counter[int]] = {who: Counter() for who in panel}
    for post in answers:
        who = member(post["author"])
        if who is not None and post["question"] is not None:
            answered[who][post["question"]] += 1
    return [
        Coverage(
            handle=handle,
            name=name,
            answered=[answered[who][q["number"]] > 0 for q in questions],
            count=sum(1 for q in questions if answered[who][q["number"]]),
        )
        for who, (handle, name) in sorted(panel.items(), key=lambda item: item[1][0].lower())
    ]


def insights_build(snapshot: Snapshot, *, seen_before: set[str]) -> Insights:
    """Everything the insights panel shows. `seen_before` holds the author keys that
    posted in an earlier jam of the series (see selectors.authors_seen_before)."""
    jam = snapshot["jam"]
    posts = snapshot["posts"]
    answers = [p for p in posts if p["kind"] != Kind.QUESTION]
    shown = threadable(snapshot)
    # A reply in a side conversation is a contribution, but it does not answer a question.
    to_questions = [p for p in answers if not is_reply(p, shown)]
    times = [parse_iso(p["time"]) for p in posts]
    start = parse_iso(jam["went_live_at"] or jam["starts_at"])
    if times:
        start = min(start, times[0])
    end = parse_iso(jam["ended_at"]) if jam["ended_at"] else (max(times) if times else start)
    if times:
        end = max(end, max(times))

    people: dict[str, Person] = {}
    sources: dict[str, set[str]] = {}
    profiles: dict[str, str] = {}
    for post in answers:
        author = post["author"]
        person = people.get(author["key"])
        if person is None:
            person = people[author["key"]] = Person(
                key=author["key"],
                handle=author["handle"],
                name=author["name"],
                role=author["role"],
                posts=0,
                profile_url="",
            )
        person.posts += 1
        sources.setdefault(author["key"], set()).add(post["source"])
        profiles.setdefault(author["key"], author.get("url") or "")
    for person in people.values():
        person.profile_url = profile_url(person.handle, sources[person.key], profiles[person.key])
        person.network = network_of(sources[person.key])
    ranked = sorted(people.values(), key=lambda p: (-p.posts, p.handle.lower()))
    top = ranked[:TOP_CONTRIBUTORS]
    for person in top:
        person.share = round(100 * person.posts / top[0].posts, 1)

    questions = snapshot["questions"]
    coverage = _coverage(jam["panelists"], ranked, to_questions, questions)

    released = {q["number"]: parse_iso(q["released_at"]) for q in questions if q["released_at"]}
    first: dict[int, datetime] = {}
    for post in to_questions:
        number = post["question"]
        if number in released and number not in first:
            first[number] = parse_iso(post["time"])
    first_answers = [
        FirstAnswer(
            number=q["number"],
            text=q["text"],
            seconds=(
                max(0, int((first[q["number"]] - released[q["number"]]).total_seconds()))
                if q["number"] in first
                else None
            ),
        )
        for q in questions
        if q["number"] in released
    ]
    slowest = max((f.seconds for f in first_answers if f.seconds is not None), default=0) or 1
    for item in first_answers:
        item.share = round(100 * (item.seconds or 0) / slowest, 1)

    link_counts: Counter[str] = Counter()
    for post in answers:
        for url in {link_normalise(u) for u in post["links"]}:
            link_counts[url] += 1
    links = [
        SharedLink(url=url, count=count)
        for url, count in sorted(link_counts.items(), key=lambda item: (-item[1], item[0]))[
            :LINKS_SHOWN
        ]
    ]

    new_faces = [p for p in ranked if p.role == "participant" and p.key not in seen_before][
        :NEW_FACES
    ]
    return Insights(
        chart=_chart(snapshot, start, end),
        counts=transcript_counts(snapshot),
        top=top,
        questions=questions,
        coverage=coverage,
        first_answers=first_answers,
        links=links,
        links_total=len(link_counts),
        new_faces=new_faces,
        by_network=posts_by_network(posts),
    )


def insights_author_keys(snapshot: Snapshot) -> list[str]:
    return sorted({p["author"]["key"] for p in snapshot["posts"] if p["kind"] != Kind.QUESTION})
