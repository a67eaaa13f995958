"""Reads of posts that more than one caller needs."""

from __future__ import annotations

from django.db.models import QuerySet

from jamhost.jams.models import Jam
from jamhost.live.render import VIEWER
from jamhost.posts.models import Post, PostStatus

ROOM_PAGE_SIZE = 200


def posts_visible_to(*, jam: Jam, audience: str) -> QuerySet[Post]:
    posts = Post.objects.filter(jam=jam).select_related("question")
    if audience == VIEWER:
        posts = posts.filter(status=PostStatus.VISIBLE)
    return posts


def posts_for_room(*, jam: Jam, audience: str) -> tuple[list[Post], list[Post]]:
    """(pinned posts, the latest posts in seq order) for a room's first render."""
    posts = posts_visible_to(jam=jam, audience=audience)
    pinned = list(posts.filter(pinned=True).order_by("seq"))
    latest = list(posts.filter(pinned=False).order_by("-seq")[:ROOM_PAGE_SIZE])
    latest.reverse()
    return pinned, latest


def posts_after(*, jam: Jam, seq: int, audience: str) -> QuerySet[Post]:
    """Posts with seq > `seq`, in seq order."""
    return posts_visible_to(jam=jam, audience=audience).filter(seq__gt=seq).order_by("seq")
