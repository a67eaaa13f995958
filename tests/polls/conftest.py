from __future__ import annotations

import uuid
from typing import Any

import pytest

from jamhost.jams.models import Role
from jamhost.polls.models import Poll
from jamhost.polls.services import poll_launch
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.live.conftest import hub  # noqa: F401 (the live hub fixture, for socket tests)
from tests.networks.conftest import x_server  # noqa: F401 (the X-compatible server fixture)


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
