"""Link previews: the Open Graph and X card metadata of jam pages, live rooms, replays and
permalinks (title, hashtag, host, date), and what their image shows (card_image.py draws it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest
from django.urls import reverse

from jamhost.jams.models import Jam, JamStatus
from jamhost.links import absolute_url
from jamhost.transcripts.card_image import CardImage
from jamhost.transcripts.selectors import TranscriptCounts
from jamhost.transcripts.snapshot import Snapshot, parse_iso


@dataclass(frozen=True)
class Card:
    """What a page says about itself to link previews."""

    title: str
    description: str
    url: str
    image_url: str
    image_alt: str
    kind: str = "website"  # og:type


def day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


# What each page says ------------------------------------------------------------------------


def _byline(jam: Jam) -> str:
    started = jam.ran_from if jam.is_over else jam.starts_at
    return f"{jam.title} · hosted by @{jam.host.get_username()} · {day(started)}"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def jam_card(jam: Jam, request: HttpRequest | None = None) -> tuple[Card, CardImage]:
    """The jam's page (and its live room): what it is, who hosts it, when (an ended jam:
    when it went live and how long it really ran, as its pages say)."""
    if jam.is_over:
        when = f"{jam.ran_from:%Y-%m-%d %H:%M} UTC (ran {jam.ran_for})"
    else:
        when = f"{jam.starts_at:%Y-%m-%d %H:%M} UTC ({jam.duration_minutes} minutes)"
    state = {
        JamStatus.LIVE: "Live now",
        JamStatus.ENDED: "Transcript",
        JamStatus.ARCHIVED: "Transcript",
    }.get(JamStatus(jam.status), f"Tweet Jam · {jam.starts_at:%Y-%m-%d %H:%M} UTC")
    current = jam.current_question if jam.status == JamStatus.LIVE else None
    text = f"Q{current.number}: {current.text}" if current else jam.title
    description = f"#{jam.hashtag} · a Tweet Jam hosted by @{jam.host.get_username()} on {when}."
    if jam.description:
        description += " " + _clip(jam.description, 200)
    image = CardImage(
        hashtag=jam.hashtag,
        eyebrow=state,
        text=text,
        byline="" if current is None else f"{jam.title}",
        footer=_byline(jam),
        fallback=f"#{jam.hashtag}",
    )
    path = reverse("transcripts:jam_card", kwargs={"slug": jam.slug})
    card = Card(
        title=f"{jam.title} (#{jam.hashtag})",
        description=description,
        url=absolute_url(jam.get_absolute_url(), request),
        image_url=absolute_url(f"{path}?v={image.digest[:12]}", request),
        image_alt=f"{jam.title}, #{jam.hashtag}, hosted by @{jam.host.get_username()}",
    )
    return card, image


def replay_card(
    jam: Jam, request: HttpRequest | None = None, *, version: int | None = None
) -> Card:
    """The replay's metadata: it is read before the snapshot is (the page streams), so it
    says what the jam row knows; the image says what the transcript holds."""
    path = reverse("transcripts:replay_card", kwargs={"slug": jam.slug})
    return Card(
        title=f"{jam.title} (#{jam.hashtag}): the transcript",
        description=(
            f"Replay #{jam.hashtag}, hosted by @{jam.host.get_username()} on "
            f"{day(jam.ran_from)}: every question and answer, at the pace they were posted."
        ),
        url=absolute_url(reverse("transcripts:replay", kwargs={"slug": jam.slug}), request),
        image_url=absolute_url(path + (f"?v={version}" if version else ""), request),
        image_alt=f"Transcript of {jam.title}, #{jam.hashtag}",
        kind="article",
    )


def replay_image(jam: Jam, counts: TranscriptCounts) -> CardImage:
    return CardImage(
        hashtag=jam.hashtag,
        eyebrow="Transcript",
        text=jam.title,
        byline=(
            f"{counts.posts:,} post{'s' if counts.posts != 1 else ''} by {counts.people:,} "
            f"{'person' if counts.people == 1 else 'people'} · {counts.questions} "
            f"question{'s' if counts.questions != 1 else ''}"
        ),
        footer=_byline(jam),
        fallback=f"#{jam.hashtag}",
    )


def question_card(
    jam: Jam, question: dict, request: HttpRequest | None = None, *, version: int
) -> tuple[Card, CardImage]:
    number = question["number"]
    anchor = f"q{number}"
    url = reverse("transcripts:section", kwargs={"slug": jam.slug, "anchor": anchor})
    image_path = reverse("transcripts:section_card", kwargs={"slug": jam.slug, "anchor": anchor})
    image = CardImage(
        hashtag=jam.hashtag,
        eyebrow=f"Q{number}",
        text=question["text"],
        byline=f"asked by @{jam.host.get_username()} in #{jam.hashtag}",
        footer=_byline(jam),
        fallback=jam.title,
    )
    card = Card(
        title=f"Q{number}: {_clip(question['text'], 120)} (#{jam.hashtag})",
        description=(
            f"Question {number} of {jam.title}, hosted by @{jam.host.get_username()} on "
            f"{day(jam.ran_from)}. Read the answers, or replay them as they came in."
        ),
        url=absolute_url(url, request),
        image_url=absolute_url(f"{image_path}?v={version}", request),
        image_alt=f"Q{number} of #{jam.hashtag}: {_clip(question['text'], 300)}",
        kind="article",
    )
    return card, image


def post_card(
    jam: Jam,
    post: dict,
    snapshot: Snapshot,
    request: HttpRequest | None = None,
    *,
    version: int,
) -> tuple[Card, CardImage]:
    author = post["author"]
    who = f"@{author['handle']}" + (f" ({author['name']})" if author["name"] else "")
    if author["role"] != "participant":
        who += f", {author['role']}"
    clock = f"{parse_iso(post['time']):%H:%M} UTC"
    number = post["question"]
    question = next((q for q in snapshot["questions"] if q["number"] == number), None)
    if question is None:
        eyebrow = "A post"
    elif post["kind"] == "question":
        eyebrow = f"Q{number}"
    else:
        eyebrow = f"A{number} · Q{number}: {_clip(question['text'], 60)}"
    kwargs = {"slug": jam.slug, "seq": post["seq"]}
    image = CardImage(
        hashtag=jam.hashtag,
        eyebrow=eyebrow,
        text=post["text"],
        byline=f"{who} · {clock}",
        footer=_byline(jam),
        fallback=f"A post by @{author['handle']} in #{jam.hashtag}",
    )
    card = Card(
        title=f"@{author['handle']} in #{jam.hashtag}: {_clip(post['text'], 90)}",
        description=(
            (f"Answering Q{number}: {_clip(question['text'], 140)} · " if question else "")
            + f"{jam.title}, hosted by @{jam.host.get_username()} on {day(jam.ran_from)}."
        ),
        url=absolute_url(reverse("transcripts:post", kwargs=kwargs), request),
        image_url=absolute_url(
            reverse("transcripts:post_card", kwargs=kwargs) + f"?v={version}", request
        ),
        image_alt=f"{who} in #{jam.hashtag}: {_clip(post['text'], 300)}",
        kind="article",
    )
    return card, image
