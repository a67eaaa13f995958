from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from jamhost.jams.models import Role
from tests.factories import JamFactory, MembershipFactory, UserFactory, live_jam
from tests.live.conftest import hub  # noqa: F401 - the live hub fixture, shared

ROLES = ("anonymous", "participant", "panelist", "moderator", "host", "staff")


@dataclass
class Cast:
    """A live jam and a person in every role, plus a draft jam with the same people."""

    jam: Any
    draft: Any
    users: dict[str, Any]

    def client(self, role: str, **kwargs: Any) -> Client:
        client = Client(**kwargs)
        if self.users[role] is not None:
            client.force_login(self.users[role])
        return client

    def user(self, role: str) -> Any:
        return self.users[role] or AnonymousUser()


def make_cast() -> Cast:
    jam = live_jam(questions=3, released=1)
    host = jam.host
    panelist, moderator = UserFactory(), UserFactory()
    MembershipFactory(jam=jam, user=panelist, role=Role.PANELIST)
    MembershipFactory(jam=jam, user=moderator, role=Role.MODERATOR)
    draft = JamFactory(host=host)
    MembershipFactory(jam=draft, user=panelist, role=Role.PANELIST)
    MembershipFactory(jam=draft, user=moderator, role=Role.MODERATOR)
    users = {
        "anonymous": None,
        "participant": UserFactory(),
        "panelist": panelist,
        "moderator": moderator,
        "host": host,
        "staff": UserFactory(is_staff=True),
    }
    return Cast(jam=jam, draft=draft, users=users)


@pytest.fixture
def cast(db: Any) -> Cast:
    return make_cast()
