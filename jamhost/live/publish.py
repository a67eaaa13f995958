"""The one place changes reach live screens: after commit, render once per audience and
hand the frames to the bus. Services send the core events (PostChanged, JamChanged,
UserRolesChanged) inside their transaction, or call the *_on_commit helpers that send
them; live subscribes (LiveConfig.ready). Nothing is published for a transaction that
rolls back."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from jamhost.core import events
from jamhost.live import bus
from jamhost.live.frames import HEADER_KEY, Frame, post_key
from jamhost.posts.render import AUDIENCES, render_header, render_post_audiences

if TYPE_CHECKING:
    from jamhost.jams.models import Jam
    from jamhost.posts.models import Post

log = logging.getLogger(__name__)


def post_changed_on_commit(post: Post, *, header_jam: Jam | None = None) -> None:
    """Publish the post's new state (and the jam header, if it changed in the same rev)."""
    events.send_on_commit(events.PostChanged(post=post, rev=post.rev, header_jam=header_jam))


def jam_changed_on_commit(jam: Jam) -> None:
    """Publish the jam's header (status, current question, timers) after commit."""
    events.send_on_commit(events.JamChanged(jam=jam, rev=jam.header_rev))


def user_roles_changed_on_commit(*, jam_id: int, user_id: int) -> None:
    """Tell the user's open consoles to re-check their role (a removed moderator is cut off)."""
    events.send_on_commit(events.UserRolesChanged(jam_id=jam_id, user_id=user_id))


# Subscribers (called after commit) -------------------------------------------------------


def publish_post_changed(event: events.PostChanged) -> None:
    post, header_jam = event.post, event.header_jam
    header: Frame = ((HEADER_KEY, render_header(header_jam)),) if header_jam is not None else ()
    key = post_key(post.pk)
    frames = {aud: (*header, (key, html)) for aud, html in render_post_audiences(post).items()}
    bus.publish(jam_id=post.jam_id, rev=event.rev, frames=frames)


def publish_jam_changed(event: events.JamChanged) -> None:
    header: Frame = ((HEADER_KEY, render_header(event.jam)),)
    bus.publish(jam_id=event.jam.pk, rev=event.rev, frames=dict.fromkeys(AUDIENCES, header))


def notify_roles_changed(event: events.UserRolesChanged) -> None:
    bus.notify_user(jam_id=event.jam_id, user_id=event.user_id)


def subscribe() -> None:
    events.subscribe(events.PostChanged, publish_post_changed)
    events.subscribe(events.JamChanged, publish_jam_changed)
    events.subscribe(events.UserRolesChanged, notify_roles_changed)
