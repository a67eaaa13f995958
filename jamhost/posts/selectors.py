"""Reads of posts that more than one caller needs."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from jamhost.jams.hashtags import text_has_hashtag
from jamhost.jams.models import Jam
from jamhost.posts.models import Post, PostStatus
from jamhost.posts.render import VIEWER

ROOM_PAGE_SIZE = 200
# A post in these states went (or is going) to X under its author's account.
# A post whose entry for a network in post.elsewhere (kept by the networks app) is one of
# these was sent, or is being sent, there.
SENT = ("queued", "held", "published")
# The most texts a room page lists for the compose box's repeat warning.
SENT_LISTED = 500


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


def post_sent_to(post: Post, network: str) -> bool:
    """Whether the post was sent (or is being sent) to `network`."""
    entry = post.elsewhere.get(network) if isinstance(post.elsewhere, dict) else None
    return isinstance(entry, dict) and entry.get("status") in SENT


def _sent_to(network: str) -> dict[str, Any]:
    if not network.isidentifier():  # a key path in the query: "x", "bluesky"
        raise ValueError(f"not a network key: {network!r}")
    return {f"elsewhere__{network}__status__in": SENT}


def post_text_sent_before(*, user: Any, text: str, network: str) -> bool:
    """Whether `user` already sent (or is sending) this exact text to `network` from any
    jam: for a network that refuses the same text twice from one account, the compose box
    warns first."""
    if not getattr(user, "is_authenticated", False) or "\x00" in text:
        return False  # no stored text holds a NUL (and PostgreSQL refuses one in a query)
    return Post.objects.filter(author_id=user.pk, text=text, **_sent_to(network)).exists()


def post_texts_sent(*, user: Any, jam: Jam, network: str) -> list[str]:
    """The texts `user` already sent (or is sending) to `network` that a post in `jam`
    could repeat, newest first: the compose box checks them as the person types, without
    a request (static/js/compose-count.js), and warns as post_text_sent_before does.

    Every text the compose box builds names the jam's hashtag (text_has_hashtag), so
    only texts naming it can be repeated: those of jams with the same tag, and any other
    that mentions it.
    The newest SENT_LISTED only: a network refuses a text the account posted recently."""
    if not getattr(user, "is_authenticated", False):
        return []
    texts = (
        Post.objects.filter(author_id=user.pk, **_sent_to(network))
        .filter(Q(jam__hashtag_key=jam.hashtag_key) | Q(text__icontains=jam.hashtag))
        .order_by("-pk")
        .values_list("text", flat=True)[:SENT_LISTED]
    )
    return [text for text in dict.fromkeys(texts) if text_has_hashtag(text, jam.hashtag)]
