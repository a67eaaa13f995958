"""The one answer-prefix rule: every form in its table names the question, nothing else
does, and each path (compose, ingest, import, rehearsal) uses it."""

from __future__ import annotations

import pytest

from jamhost.jams.answers import FORMS, answer_number, answer_prefix


@pytest.mark.parametrize("form", FORMS)
def test_every_form_in_the_table_names_its_question(form: str) -> None:
    assert answer_number(form) == 3
    prefix = answer_prefix(form)
    assert prefix is not None and form[prefix.end :] == "…"


@pytest.mark.parametrize(
    "text",
    [
        "Also 3 things",
        "A 3 things",  # a space between A and the number needs a mark after it
        "Ask me",
        "a1b",
        "@host hello A3: no",
        "Q3: a question",
        "A1000: too many digits",
        "#tag A3: not at the start",
    ],
)
def test_what_is_not_an_answer_prefix(text: str) -> None:
    assert answer_number(text) is None


@pytest.mark.parametrize(
    ("text", "number"), [("A12) yes", 12), ("  a7—yes", 7), ("@Host_1 A 2: yes", 2)]
)
def test_numbers_and_spacing(text: str, number: int) -> None:
    assert answer_number(text) == number
