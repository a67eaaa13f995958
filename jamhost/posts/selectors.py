"""Reads of posts that more than one caller needs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from jamhost.jams.models import Jam
from jamhost.live.render import VIEWER
from jamhost.posts.models import NetworkStatus, Post, PostStatus

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


def post_text_sent_to_x_before(*, user: Any, text: str) -> bool:
    """Whether `user` already sent (or is sending) this exact text to X from any jam: X
    refuses the same text twice from one account, so the compose box warns first."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Post.objects.filter(
        author_id=user.pk,
        text=text,
        network_status__in=[NetworkStatus.QUEUED, NetworkStatus.HELD, NetworkStatus.PUBLISHED],
    ).exists()
