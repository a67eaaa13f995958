"""Catch-up from the database: the current state of everything that changed in a jam
after a given rev, as frames ready to send. Used when a hub fills a gap, for the part of a
connecting socket's catch-up older than its hub's recent frames (live.fanout), and for
the whole of it when frames go through the channel layer (LIVE_FANOUT=layer).

Why it is exact: the jam's rev is read first (R). Every change with rev <= R has
committed (changes to a jam commit in rev order under the jam row lock). A post changed
again after R is left out here and arrives live with its newer rev, because the socket
joined its group before R was read.
"""

from __future__ import annotations

import threading

from cachetools import LRUCache

from jamhost.core import hooks
from jamhost.jams.models import Jam
from jamhost.live.frames import HEADER_KEY, Part, frames_by_rev, post_key
from jamhost.posts.models import Post
from jamhost.posts.render import render_header, render_post

# Catch-ups already computed, by (jam, the jam row's creation, audience, after, R). In a
# connect storm (every socket reconnecting after a restart) most sockets ask for the same
# slice; reading and instantiating its posts again per socket was most of the storm's
# cost (measured by bench/). Reusing a slice is exact: every change to a jam takes a new
# rev, so while the jam's rev is still R the rows with rev <= R are as they were; a change
# committed after R was read arrives live with its newer rev, as without the cache.
_SLICES = 256
_slices: LRUCache[tuple[int, object, str, int, int], list[Part]] = LRUCache(maxsize=_SLICES)
_lock = threading.Lock()  # read from several database threads at once


def frames_after(*, jam_id: int, audience: str, after: int) -> tuple[int, list[tuple[int, str]]]:
    """Return (R, [(rev, html), …]) in rev order for changes in (after, R]."""
    upto, parts = parts_after(jam_id=jam_id, audience=audience, after=after)
    return upto, frames_by_rev(parts)


def parts_after(*, jam_id: int, audience: str, after: int) -> tuple[int, list[Part]]:
    """Return (R, parts) in rev order for changes in (after, R], each with its key."""
    jam = Jam.objects.select_related("current_question").get(pk=jam_id)
    upto = jam.rev
    if after > upto:  # a cursor from another database (reset or restored): start over
        after = 0
    key = (jam_id, jam.created_at, audience, after, upto)
    with _lock:
        parts = _slices.get(key)
    if parts is None:
        parts = _parts(jam, audience, after, upto)
        with _lock:
            _slices[key] = parts
    return upto, parts


def parts_between(*, jam_id: int, audience: str, after: int, upto: int) -> list[Part]:
    """The current state of what changed in (after, upto], as parts in rev order, where
    every change up to `upto` is known to have committed. A change made since has a newer
    rev and is left out (the header too): the caller delivers it live."""
    jam = Jam.objects.select_related("current_question").get(pk=jam_id)
    return _parts(jam, audience, after, upto)


def _parts(jam: Jam, audience: str, after: int, upto: int) -> list[Part]:
    parts: list[Part] = []
    if after < jam.header_rev <= upto:
        parts.append((jam.header_rev, HEADER_KEY, render_header(jam)))
    posts = (
        Post.objects.filter(jam_id=jam.pk, rev__gt=after, rev__lte=upto)
        .select_related("question")
        .order_by("rev")
    )
    parts.extend((post.rev, post_key(post.pk), render_post(post, audience)) for post in posts)
    for more in hooks.live_parts:  # objects other apps publish on this path (polls)
        parts.extend(more(jam, audience, after, upto))
    # Stable: at a rev shared by the header and a post, the header comes first.
    parts.sort(key=lambda part: part[0])
    return parts
