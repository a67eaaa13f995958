"""The schedule sweep: jams open and close on time, questions are released once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from jamhost.jams.models import JamStatus
from jamhost.jams.sweep import jams_sweep
from jamhost.posts.models import Kind, Post
from tests.factories import JamFactory, QuestionFactory

pytestmark = pytest.mark.django_db


def scheduled_jam(start_in: timedelta, offsets: tuple[int, ...] = (0, 10, 20)):  # type: ignore[no-untyped-def]
    jam = JamFactory(status=JamStatus.SCHEDULED, starts_at=timezone.now() + start_in)
    for number, offset in enumerate(offsets, start=1):
        QuestionFactory(jam=jam, number=number, offset_minutes=offset)
    return jam


def test_jam_goes_live_and_first_question_is_released_at_start() -> None:
    jam = scheduled_jam(timedelta(minutes=-1))
    result = jams_sweep()
    jam.refresh_from_db()
    assert jam.status == JamStatus.LIVE and result.opened == [jam.pk]
    assert jam.current_question is not None and jam.current_question.number == 1
    assert Post.objects.filter(jam=jam, kind=Kind.QUESTION).count() == 1


def test_nothing_happens_before_the_start() -> None:
    jam = scheduled_jam(timedelta(minutes=5))
    result = jams_sweep()
    jam.refresh_from_db()
    assert jam.status == JamStatus.SCHEDULED and not result.opened


def test_questions_come_out_at_their_offsets_in_order() -> None:
    jam = scheduled_jam(timedelta(minutes=-1))
    start = jam.starts_at
    jams_sweep(now=start + timedelta(seconds=5))
    jams_sweep(now=start + timedelta(minutes=9, seconds=59))
    assert list(
        jam.questions.filter(released_at__isnull=False).values_list("number", flat=True)
    ) == [1]
    jams_sweep(now=start + timedelta(minutes=10))
    jam.refresh_from_db()
    assert jam.current_question.number == 2
    # A server that was down catches up: every due question, in order, once.
    jams_sweep(now=start + timedelta(minutes=25))
    jams_sweep(now=start + timedelta(minutes=26))
    releases = Post.objects.filter(jam=jam, kind=Kind.QUESTION).order_by("seq")
    assert [p.question.number for p in releases] == [1, 2, 3]


def test_jam_ends_at_start_plus_duration() -> None:
    jam = scheduled_jam(timedelta(minutes=-1))
    jams_sweep(now=jam.starts_at)
    jams_sweep(now=jam.starts_at + timedelta(minutes=59))
    jam.refresh_from_db()
    assert jam.status == JamStatus.LIVE
    result = jams_sweep(now=jam.starts_at + timedelta(minutes=60))
    jam.refresh_from_db()
    assert jam.status == JamStatus.ENDED and result.ended == [jam.pk]


def test_extended_jam_ends_later() -> None:
    from jamhost.jams.lifecycle import jam_extend

    jam = scheduled_jam(timedelta(minutes=-1))
    jams_sweep(now=jam.starts_at)
    jam_extend(jam=jam, minutes=15)
    jams_sweep(now=jam.starts_at + timedelta(minutes=61))
    jam.refresh_from_db()
    assert jam.status == JamStatus.LIVE
    jams_sweep(now=jam.starts_at + timedelta(minutes=75))
    jam.refresh_from_db()
    assert jam.status == JamStatus.ENDED


def test_sweeping_twice_releases_once() -> None:
    jam = scheduled_jam(timedelta(minutes=-1))
    jams_sweep()
    jams_sweep()
    assert Post.objects.filter(jam=jam, kind=Kind.QUESTION).count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_release_each_question_exactly_once() -> None:
    assert connection.vendor == "postgresql"
    jams = [scheduled_jam(timedelta(minutes=-30), offsets=(0, 5, 10, 15)) for _ in range(3)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(10)
            jams_sweep()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for jam in jams:
        releases = list(
            Post.objects.filter(jam=jam, kind=Kind.QUESTION).values_list(
                "question__number", flat=True
            )
        )
        assert sorted(releases) == [1, 2, 3, 4]
        seqs = list(Post.objects.filter(jam=jam).order_by("seq").values_list("seq", flat=True))
        assert seqs == [1, 2, 3, 4]
