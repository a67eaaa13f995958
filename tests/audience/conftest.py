from __future__ import annotations

import uuid
from typing import Any

import pytest

from jamhost.jams.models import Role
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.live.conftest import hub  # noqa: F401 (the live hub fixture, for socket tests)


class Room:
    """A live jam with its people: host, a moderator, a panelist, an asker and voters."""

    def __init__(self, **kwargs: Any) -> None:
        self.jam = live_jam(**kwargs)
        self.host = self.jam.host
        self.moderator = MembershipFactory(jam=self.jam, role=Role.MODERATOR).user
        self.panelist = MembershipFactory(jam=self.jam, role=Role.PANELIST).user
        self.asker = UserFactory()
        self.others = [UserFactory() for _ in range(4)]

    def question(self, body: str = "What about testing?", user: Any = None) -> Any:
        return post_compose(jam=self.jam, user=user or self.asker, body=body)

    def answer(self, body: str = "We test everything.") -> Any:
        return post_compose(jam=self.jam, user=self.panelist, body=body)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings: Any) -> None:
    # The compose limiter counts in the cache per client address (every test client is
    # 127.0.0.1), so each test gets a private in-memory cache: nothing carries over, and
    # the shared Redis is never flushed.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"audience-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def room(db: None) -> Room:
    return Room()
