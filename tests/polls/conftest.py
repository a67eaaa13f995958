from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from jamhost.jams.models import Role
from jamhost.polls.models import Poll
from jamhost.polls.services import poll_close, poll_launch
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.live.conftest import hub  # noqa: F401 (the live hub fixture, for socket tests)
from tests.networks.conftest import (
    link_x,
    x_server,  # noqa: F401 (the X-compatible server fixture)
)
from tests.xstate import on_x


class PollRoom:
    """A live jam with its host, a moderator and voters."""

    def __init__(self, **kwargs: Any) -> None:
        self.jam = live_jam(**kwargs)
        self.host = self.jam.host
        self.moderator = MembershipFactory(jam=self.jam, role=Role.MODERATOR).user
        self.voters = [UserFactory() for _ in range(4)]

    def launch(self, options: tuple[str, ...] = ("Yes", "No", "Maybe"), minutes: int = 5) -> Poll:
        return poll_launch(
            jam=self.jam,
            user=self.host,
            text="Do you work remotely?",
            options=list(options),
            open_minutes=minutes,
        )


def closed_x_poll(room: PollRoom, x: Any, captured: Any) -> tuple[Poll, datetime]:
    """An X poll launched now, closed here and on X: its read is due from the returned
    moment on."""
    link_x(x, room.host)
    with captured(execute=True):
        poll = poll_launch(
            jam=room.jam,
            user=room.host,
            text="Which editor?",
            options=["Vim", "Emacs", "Other"],
            open_minutes=5,
            on_x=True,
        )
    poll = Poll.objects.select_related("x_post").get(pk=poll.pk)
    assert poll.x_post is not None and on_x(poll.x_post).x_id
    x.poll_votes_add(on_x(poll.x_post).x_id, [3, 2, 0])
    x.advance(6 * 60)
    due = timezone.now() + timedelta(minutes=6)
    poll_close(poll=poll, now=due - timedelta(minutes=1))
    return poll, due


def reads_on_x(x: Any) -> int:
    return len(x.requests_to("/2/tweets", "GET"))


def die_after_claiming(poll: Poll, at: datetime) -> None:
    """What a worker killed between its claim and storing the results leaves behind."""
    assert Poll.objects.filter(pk=poll.pk, x_read_at__isnull=True).update(x_read_at=at) == 1


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings: Any) -> None:
    # Vote limits count in the cache per user id, and ids come back in each test's fresh
    # database: each test gets a private in-memory cache (the shared Redis is never flushed).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"polls-{uuid.uuid4().hex}",
        }
    }
