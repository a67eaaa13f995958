"""The run-sheet's one rule for moving questions: a released question keeps its place.
The host page's move buttons and question_reorder follow it alike."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jamhost.jams import run_sheet
from tests.factories import live_jam

pytestmark = pytest.mark.django_db


def test_the_move_buttons_and_the_reorder_follow_one_rule() -> None:
    jam = live_jam(questions=4, released=1)
    q1, q2, q3, q4 = questions = list(jam.questions.order_by("number"))
    assert q1.is_released and not q2.is_released
    assert not run_sheet.question_can_swap(questions, 0, 1)  # released: keeps its place
    assert not run_sheet.question_can_swap(questions, 1, -1)  # nothing moves past it
    assert run_sheet.question_can_swap(questions, 1, 1)
    assert run_sheet.question_can_swap(questions, 3, -1)
    assert not run_sheet.question_can_swap(questions, 3, 1)  # the last has nothing below
    with pytest.raises(ValidationError, match="keeps its place"):
        run_sheet.question_reorder(jam=jam, ordered_ids=[q2.pk, q1.pk, q3.pk, q4.pk])
    moved = run_sheet.question_reorder(jam=jam, ordered_ids=[q1.pk, q3.pk, q2.pk, q4.pk])
    assert [q.pk for q in moved] == [q1.pk, q3.pk, q2.pk, q4.pk]
