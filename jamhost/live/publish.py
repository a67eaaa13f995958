"""The one place changes reach live screens: after commit, render once per audience and
hand the frames to the bus. Services call the *_on_commit helpers inside their
transaction; nothing is published for a transaction that rolls back."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction

from jamhost.live import bus
from jamhost.live.render import AUDIENCES, render_header, render_post_audiences

if TYPE_CHECKING:
    from jamhost.jams.models import Jam
    from jamhost.posts.models import Post

log = logging.getLogger(__name__)


def post_changed_on_commit(post: Post, *, header_jam: Jam | None = None) -> None:
    """Publish the post's new state (and the jam header, if it changed in the same rev)."""
    rev = post.rev

    def publish() -> None:
        header = render_header(header_jam) if header_jam is not None else ""
        frames = {aud: header + text for aud, text in render_post_audiences(post).items()}
        bus.publish(jam_id=post.jam_id, rev=rev, frames=frames)

    transaction.on_commit(publish)


def jam_changed_on_commit(jam: Jam) -> None:
    """Publish the jam's header (status, current question, timers) after commit."""
    rev = jam.header_rev

    def publish() -> None:
        header = render_header(jam)
        bus.publish(jam_id=jam.pk, rev=rev, frames=dict.fromkeys(AUDIENCES, header))

    transaction.on_commit(publish)


def user_roles_changed_on_commit(*, jam_id: int, user_id: int) -> None:
    """Tell the user's open consoles to re-check their role (a removed moderator is cut off)."""
    transaction.on_commit(lambda: bus.notify_user(jam_id=jam_id, user_id=user_id))
