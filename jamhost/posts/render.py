"""Render live fragments once per audience. Every socket of an audience receives the same
text; nothing here runs per socket. Renders are cached by (object, rev, audience), so a
connect storm replaying the same posts to many sockets renders each post once."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from cachetools import LRUCache
from django.template.loader import render_to_string
from django.utils.html import format_html

from jamhost.jams.selectors import question_next, released_of

if TYPE_CHECKING:
    from jamhost.jams.models import Jam
    from jamhost.posts.models import Post

VIEWER = "viewer"
MODERATOR = "moderator"
AUDIENCES = (VIEWER, MODERATOR)

_CACHE_SIZE = 4096
_cache: LRUCache[tuple[str, int, int, str], str] = LRUCache(maxsize=_CACHE_SIZE)
# Renders run in several threads (request threads, publishers after commit); the cache's
# bookkeeping is not thread-safe, the render itself runs outside the lock.
_lock = threading.Lock()


def _cached(key: tuple[str, int, int, str], make: object) -> str:
    with _lock:
        text = _cache.get(key)
    if text is None:
        text = make()  # type: ignore[operator]
        with _lock:
            _cache[key] = text
    return text


def post_visible_to(post: Post, audience: str) -> bool:
    return audience == MODERATOR or post.is_visible


def render_post(post: Post, audience: str) -> str:
    """The post's fragment for the audience: the post, or a removal marker for viewers
    when the post is not (or no longer) visible to them."""
    if not post_visible_to(post, audience):
        return format_html(
            '<div class="post-removed" data-post="{}" data-rev="{}" hidden></div>',
            post.pk,
            post.rev,
        )
    return _cached(
        ("post", post.pk, post.rev, audience),
        lambda: render_to_string(
            "posts/_post.html", {"post": post, "audience": audience, "live": True}
        ),
    )


_ARTICLE_END = "\n</article>"


def failed_somewhere(post: Post) -> bool:
    """Whether a network the post went to refused it (post.elsewhere)."""
    found = post.elsewhere if isinstance(post.elsewhere, dict) else {}
    return any(isinstance(e, dict) and e.get("status") == "failed" for e in found.values())


def render_post_audiences(post: Post) -> dict[str, str]:
    """render_post for every audience, for publishing a change.

    The moderators' fragment is the viewers' with the moderation footer before its
    closing `</article>` whenever nothing else in it depends on the audience: the post
    is visible, unflagged and failed on no network (a Retry button shows to moderators) —
    every new post of a participant or panelist. The template is then rendered once,
    plus the footer, instead of twice (a tenth of a compose POST's CPU)."""
    if not (post.is_visible and not post.flags and not failed_somewhere(post)):
        return {audience: render_post(post, audience) for audience in AUDIENCES}
    viewer = render_post(post, VIEWER)

    def moderator() -> str:
        footer = render_to_string(
            "posts/_post_moderation.html", {"post": post, "audience": MODERATOR, "live": True}
        )
        end = viewer.rindex(_ARTICLE_END)
        return f"{viewer[:end]}{footer}{viewer[end:]}"

    return {
        VIEWER: viewer,
        MODERATOR: _cached(("post", post.pk, post.rev, MODERATOR), moderator),
    }


def render_header(jam: Jam) -> str:
    """The jam's header: status, current question, released questions, timers."""

    def make() -> str:
        questions = list(jam.questions.all())
        released = released_of(questions)
        return render_to_string(
            "live/_header.html",
            {
                "jam": jam,
                "current": jam.current_question,
                "released": released,
                "next_question": question_next(questions),
            },
        )

    return _cached(("header", jam.pk, jam.header_rev, ""), make)
