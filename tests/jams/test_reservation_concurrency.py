"""Two hosts reserving one hashtag at the same moment, on PostgreSQL with real threads
(each its own connection): one jam gets the tag, the other host gets the clash message.
Two jams created with one title at once both get a slug. Never an error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from jamhost.jams import services
from jamhost.jams.models import Jam
from tests.concurrency import race
from tests.factories import JamFactory, UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_two_hosts_reserving_one_tag_at_once_one_wins_the_other_is_told() -> None:
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    for n in range(8):
        first, second = UserFactory(), UserFactory()
        tag = f"RaceTag{n}"
        outcomes = race(
            lambda u=first, t=tag: services.jam_create(
                host=u, title=f"First {t}", hashtag=t, starts_at=start
            ),
            lambda u=second, t=tag: services.jam_create(
                host=u, title=f"Second {t}", hashtag=f"#{t.lower()}",
                starts_at=start + timedelta(minutes=45),
            ),
        )  # fmt: skip
        made = [o for o in outcomes if isinstance(o, Jam)]
        refused = [o for o in outcomes if isinstance(o, ValidationError)]
        assert len(made) == 1 and len(refused) == 1, outcomes
        assert "is reserved by another jam" in " ".join(refused[0].message_dict["hashtag"])
        assert Jam.objects.filter(hashtag_key=tag.lower()).count() == 1


def test_moving_two_jams_onto_one_tag_at_once_lets_one_through() -> None:
    start = timezone.now().replace(microsecond=0) + timedelta(days=4)
    for n in range(5):
        one = JamFactory(starts_at=start)
        two = JamFactory(starts_at=start)
        tag = f"MoveTag{n}"
        outcomes = race(
            lambda j=one, t=tag: services.jam_update(
                jam=j, title=j.title, hashtag=t, starts_at=start, duration_minutes=60
            ),
            lambda j=two, t=tag: services.jam_update(
                jam=j, title=j.title, hashtag=t, starts_at=start, duration_minutes=60
            ),
        )
        assert sorted(type(o).__name__ for o in outcomes) == ["Jam", "ValidationError"], outcomes
        assert Jam.objects.filter(hashtag_key=tag.lower()).count() == 1


def test_two_jams_with_one_title_at_once_both_get_a_slug() -> None:
    start = timezone.now().replace(microsecond=0) + timedelta(days=5)
    for n in range(6):
        hosts = [UserFactory() for _ in range(3)]
        outcomes = race(
            *(
                lambda u=u, i=i, n=n: services.jam_create(
                    host=u, title=f"Same Title {n}", hashtag=f"Slug{n}x{i}", starts_at=start
                )
                for i, u in enumerate(hosts)
            )
        )
        assert all(isinstance(o, Jam) for o in outcomes), outcomes
        slugs = {o.slug for o in outcomes}
        assert len(slugs) == 3 and f"same-title-{n}" in slugs
