"""Reads for the audience features: people to follow, the top questions, one user's own
marks (the per-user JSON the room applies client-side), flags for moderators, follow-ups."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.urls import reverse

from jamhost.audience.models import Flag, FollowUp, Vote
from jamhost.jams.models import Jam, Membership, Role
from jamhost.posts.models import (
    DELETED_AUTHOR_PREFIX,
    GUEST_AUTHOR_PREFIX,
    AuthorRole,
    Kind,
    Post,
    PostStatus,
    Source,
    app_author_key,
)
from jamhost.posts.weblinks import web_url

PEOPLE_SHOWN = 20
TOP_QUESTIONS = 5


NETWORK_SOURCES = (Source.X, Source.BLUESKY, Source.MASTODON)


def profile_url(
    *, jam: Jam, author_key: str, handle: str, source: str, author_url: str = ""
) -> str:
    """Where to find a person: their profile on the network they posted from (X, or the
    Bluesky or Mastodon profile the network gave, http(s) only), their page in this jam
    otherwise."""
    if source == Source.X:
        return f"https://x.com/{handle}"
    if source in NETWORK_SOURCES and web_url(author_url):
        return web_url(author_url)
    return reverse("audience:person", kwargs={"slug": jam.slug, "author_key": author_key})


@dataclass(frozen=True)
class PersonToFollow:
    author_key: str
    handle: str
    name: str
    avatar_url: str
    role: str
    posts: int
    upvotes: int
    source: str
    profile_url: str

    @property
    def is_panelist(self) -> bool:
        return self.role == AuthorRole.PANELIST


def people_to_follow(*, jam: Jam, limit: int = PEOPLE_SHOWN) -> list[PersonToFollow]:
    """Who is talking: the panelists first (those who have not posted yet too), then the
    others who posted visibly, the most active and most upvoted first (posts + upvotes
    received, then handle). Two queries, however many posts."""
    rows = (
        Post.objects.filter(jam=jam, kind=Kind.POST, status=PostStatus.VISIBLE)
        .exclude(author_key__startswith=DELETED_AUTHOR_PREFIX)  # nobody left to follow
        .exclude(author_key__startswith=GUEST_AUTHOR_PREFIX)  # a name only: no one to follow
        .values("author_key")
        .annotate(
            handle=Max("author_handle"),
            name=Max("author_name"),
            avatar=Max("author_avatar_url"),
            role=Max("author_role"),
            posts=Count("id"),
            upvotes=Sum("upvotes"),
            from_x=Count("id", filter=Q(source=Source.X)),
            network=Max("source", filter=Q(source__in=NETWORK_SOURCES)),
            author_url=Max("author_url"),
        )
    )
    panel = {
        app_author_key(user_id): username
        for user_id, username in Membership.objects.filter(jam=jam, role=Role.PANELIST).values_list(
            "user_id", "user__username"
        )
    }
    people: list[PersonToFollow] = []
    for row in rows:
        key = row["author_key"]
        source = Source.X if row["from_x"] else (row["network"] or Source.APP)
        people.append(
            PersonToFollow(
                author_key=key,
                handle=row["handle"],
                name=row["name"] or "",
                avatar_url=row["avatar"] or "",
                role=AuthorRole.PANELIST if key in panel else row["role"],
                posts=row["posts"],
                upvotes=row["upvotes"] or 0,
                source=source,
                profile_url=profile_url(
                    jam=jam,
                    author_key=key,
                    handle=row["handle"],
                    source=source,
                    author_url=row["author_url"] or "",
                ),
            )
        )
    posted = {p.author_key for p in people}
    for key, username in panel.items():
        if key not in posted:
            people.append(
                PersonToFollow(
                    author_key=key,
                    handle=username,
                    name="",
                    avatar_url="",
                    role=AuthorRole.PANELIST,
                    posts=0,
                    upvotes=0,
                    source=Source.APP,
                    profile_url=profile_url(
                        jam=jam, author_key=key, handle=username, source=Source.APP
                    ),
                )
            )
    people.sort(key=lambda p: (not p.is_panelist, -(p.posts + p.upvotes), p.handle.lower()))
    return people[:limit]


def audience_questions(*, jam: Jam) -> QuerySet[Post]:
    """Visible audience questions (Post.is_audience_question, as a query)."""
    return Post.objects.filter(
        jam=jam,
        kind=Kind.POST,
        status=PostStatus.VISIBLE,
        author_role__in=(AuthorRole.PARTICIPANT, AuthorRole.MODERATOR),
        body__contains="?",
    ).select_related("question")


def top_questions(*, jam: Jam, limit: int = TOP_QUESTIONS) -> list[Post]:
    """The most upvoted audience questions not yet answered, oldest first on a tie."""
    return list(
        audience_questions(jam=jam).filter(answered=False).order_by("-upvotes", "seq")[:limit]
    )


def participant_marks(*, jam: Jam, user: Any) -> dict[str, Any]:
    """What this user has done in the jam, for the room to show as theirs: the posts they
    upvoted and flagged, the people they mark to follow up."""
    if user is None or not user.is_authenticated:
        return {"signed_in": False, "me": "", "votes": [], "flags": [], "follow_ups": []}
    return {
        "signed_in": True,
        "me": app_author_key(user.pk),
        "votes": list(
            Vote.objects.filter(user=user, post__jam=jam).values_list("post_id", flat=True)
        ),
        "flags": list(
            Flag.objects.filter(user=user, post__jam=jam).values_list("post_id", flat=True)
        ),
        "follow_ups": list(
            FollowUp.objects.filter(user=user, jam=jam).values_list("author_key", flat=True)
        ),
    }


@dataclass(frozen=True)
class FlaggedPost:
    post: Post
    reasons: list[tuple[str, int]]


def flagged_posts(*, jam: Jam) -> list[FlaggedPost]:
    """Posts with open flags, most flagged first, each with its reasons and counts."""
    posts = list(
        Post.objects.filter(jam=jam, flags__gt=0)
        .select_related("question")
        .order_by("-flags", "seq")
    )
    counts: dict[int, Counter[str]] = {p.pk: Counter() for p in posts}
    for post_id, reason in Flag.objects.filter(
        post__in=posts, dismissed_at__isnull=True
    ).values_list("post_id", "reason"):
        counts[post_id][reason] += 1
    return [FlaggedPost(post=p, reasons=counts[p.pk].most_common()) for p in posts]


def flag_reasons(*, post: Post) -> list[tuple[str, int]]:
    """The open flags' reasons on one post, most common first."""
    return Counter(
        Flag.objects.filter(post_id=post.pk, dismissed_at__isnull=True).values_list(
            "reason", flat=True
        )
    ).most_common()


def follow_ups_for(*, user: Any, jam: Jam | None = None) -> QuerySet[FollowUp]:
    """The people a user marked to follow up, in one jam or all, in the order marked."""
    follow_ups = FollowUp.objects.filter(user=user).select_related("jam")
    if jam is not None:
        follow_ups = follow_ups.filter(jam=jam)
    return follow_ups.order_by("jam__starts_at", "created_at", "id")


def person_posts(*, jam: Jam, author_key: str) -> list[Post]:
    """One person's visible posts in a jam, in order: their page in the jam."""
    return list(
        Post.objects.filter(jam=jam, author_key=author_key, status=PostStatus.VISIBLE)
        .select_related("question")
        .order_by("seq")
    )
