from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jamhost.jams.models import Jam, Role
from tests.factories import JamFactory, MembershipFactory, QuestionFactory, UserFactory


@pytest.fixture
def jam(db) -> Jam:  # type: ignore[no-untyped-def]
    """A draft jam a day ahead with two unreleased questions, a panelist and a moderator."""
    jam = JamFactory(title="Remote work", hashtag="RemoteChat", host=UserFactory(username="hana"))
    QuestionFactory(jam=jam, number=1, offset_minutes=0, text="First?")
    QuestionFactory(jam=jam, number=2, offset_minutes=10, text="Second?")
    MembershipFactory(jam=jam, user=UserFactory(username="pat"), role=Role.PANELIST)
    MembershipFactory(jam=jam, user=UserFactory(username="max"), role=Role.MODERATOR)
    return jam


@pytest.fixture
def people(jam: Jam) -> dict[str, object]:
    """One user per kind of visitor, keyed by the name the permission table uses."""
    from django.contrib.auth.models import AnonymousUser

    return {
        "anonymous": AnonymousUser(),
        "participant": UserFactory(username="gus"),
        "panelist": UserFactory(username="pat"),
        "moderator": UserFactory(username="max"),
        "host": jam.host,
        "other_host": JamFactory(
            hashtag="OtherTag", starts_at=timezone.now() + timedelta(days=3)
        ).host,
        "staff": UserFactory(username="staffer", is_staff=True),
    }
