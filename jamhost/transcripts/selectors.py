"""Reads for transcripts: jams waiting for their archive, the past-jams search, the
one cross-jam question insights ask (who has posted in this jam's series before), and what
a transcript counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from jamhost.jams.hashtags import hashtag_key
from jamhost.jams.models import Jam, JamStatus
from jamhost.posts.models import Post, PostStatus
from jamhost.transcripts.models import Transcript
from jamhost.transcripts.snapshot import Snapshot, is_reply, threadable


@dataclass(frozen=True)
class TranscriptCounts:
    posts: int
    people: int
    questions: int
    replies: int
    hidden: int


def transcript_counts(snapshot: Snapshot) -> TranscriptCounts:
    """What a transcript holds, as its header, its insights and its exports all say it:
    every post shown (the questions' posts and replies included), every person who wrote
    one, the questions released, how many posts are replies, and how many moderators hid."""
    posts = snapshot["posts"]
    shown = threadable(snapshot)
    return TranscriptCounts(
        posts=len(posts),
        people=len({post["author"]["key"] for post in posts}),
        questions=len(snapshot["questions"]),
        replies=sum(1 for post in posts if is_reply(post, shown)),
        hidden=snapshot["not_shown"]["hidden"],
    )


def jams_awaiting_archive(*, ended_before: datetime) -> list[int]:
    return list(
        Jam.objects.filter(status=JamStatus.ENDED, ended_at__lte=ended_before)
        .order_by("ended_at")
        .values_list("pk", flat=True)
    )


def jams_with_outdated_transcripts(*, made_before: datetime) -> list[int]:
    """Archived jams whose records changed since their transcript: marked
    `transcript_outdated` (an account deletion), or changed after the latest transcript
    (`rev` past `archived_rev`: a post ingested after the end, an edit, a post's state on a
    network) when that transcript was made before `made_before`, so a jam still taking
    late posts gets one new version per period, not one per post."""
    made_at = (
        Transcript.objects.filter(jam=OuterRef("pk")).order_by("-version").values("created_at")[:1]
    )
    changed = Q(rev__gt=F("archived_rev"), transcript_made_at__lt=made_before)
    return list(
        Jam.objects.filter(status=JamStatus.ARCHIVED)
        .annotate(transcript_made_at=Subquery(made_at))
        .filter(Q(transcript_outdated=True) | changed)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def latest_transcript_ids() -> list[int]:
    """The id of each jam's latest transcript version."""
    newest = Transcript.objects.filter(jam=OuterRef("jam")).order_by("-version")
    return list(
        Transcript.objects.filter(version=Subquery(newest.values("version")[:1]))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def authors_seen_before(*, jam: Jam, author_keys: list[str]) -> set[str]:
    """Which of these authors posted (visibly) in an earlier jam under the same hashtag:
    everyone else is a new face in this jam's community."""
    if not author_keys:
        return set()
    return set(
        Post.objects.filter(
            jam__hashtag_key=jam.hashtag_key,
            jam__starts_at__lt=jam.starts_at,
            status=PostStatus.VISIBLE,
            author_key__in=author_keys,
        )
        .values_list("author_key", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class PastJamFilters:
    text: str = ""
    host: str = ""
    since: date | None = None
    until: date | None = None


def past_jams_search(*, filters: PastJamFilters) -> QuerySet[Jam]:
    """Ended and archived jams matching the filters, newest first.

    Text matches titles, hashtags and transcript text: PostgreSQL full-text search
    (websearch syntax, English stemming) on PostgreSQL, a case-insensitive substring
    match elsewhere. The host and a date range narrow it down.
    """
    jams = Jam.objects.filter(status__in=[JamStatus.ENDED, JamStatus.ARCHIVED]).select_related(
        "host"
    )
    if filters.host:
        jams = jams.filter(host__username__iexact=filters.host)
    if filters.since:
        jams = jams.filter(starts_at__date__gte=filters.since)
    if filters.until:
        jams = jams.filter(starts_at__date__lte=filters.until)
    text = filters.text.strip()
    if not text:
        return jams.order_by("-starts_at")
    tag = text.lstrip("#")
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = (
            SearchVector("title", weight="A", config="english")
            + SearchVector("hashtag", weight="A", config="simple")
            + SearchVector("search_document__body", weight="C", config="english")
        )
        query = SearchQuery(text, search_type="websearch", config="english")
        return (
            jams.annotate(search=vector, rank=SearchRank(vector, query))
            .filter(Q(search=query) | Q(hashtag_key=hashtag_key(tag)))
            .order_by("-rank", "-starts_at")
        )
    return jams.filter(
        Q(title__icontains=text)
        | Q(hashtag__icontains=tag)
        | Q(search_document__body__icontains=text)
    ).order_by("-starts_at")


def past_jam_hosts() -> list[str]:
    return list(
        Jam.objects.filter(status__in=[JamStatus.ENDED, JamStatus.ARCHIVED])
        .values_list("host__username", flat=True)
        .distinct()
        .order_by("host__username")
    )
