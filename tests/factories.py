from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from jamhost.jams.hashtags import hashtag_key
from jamhost.jams.models import Jam, JamStatus, Membership, Question, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    password = factory.django.Password("correct-horse-battery")


class JamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Jam
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Jam {n}")
    slug = factory.Sequence(lambda n: f"jam-{n}")
    hashtag = factory.Sequence(lambda n: f"TestJam{n}")
    hashtag_key = factory.LazyAttribute(lambda o: hashtag_key(o.hashtag))
    host = factory.SubFactory(UserFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    duration_minutes = 60
    status = JamStatus.DRAFT

    @factory.post_generation
    def host_membership(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            Membership.objects.get_or_create(jam=obj, user=obj.host, defaults={"role": Role.HOST})


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    jam = factory.SubFactory(JamFactory)
    number = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"What about topic {n}?")
    offset_minutes = 0


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    jam = factory.SubFactory(JamFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.PANELIST


def live_jam(*, questions: int = 3, released: int = 1, **kwargs: object) -> Jam:
    """A live jam that started a few minutes ago, with `released` questions out."""
    from jamhost.jams import lifecycle, run_sheet

    now = timezone.now()
    jam = JamFactory(starts_at=now - timedelta(minutes=5), status=JamStatus.SCHEDULED, **kwargs)
    for n in range(1, questions + 1):
        QuestionFactory(jam=jam, number=n, offset_minutes=(n - 1) * 10 + 30)
    lifecycle.jam_go_live(jam=jam, now=now)
    for question in jam.questions.order_by("number")[:released]:
        run_sheet.question_release(question=question, now=now)
    jam.refresh_from_db()
    return jam
