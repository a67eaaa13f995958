"""How a post names the question it answers: the one answer-prefix rule that the compose
box, X ingest, transcript import and rehearsals share.

FORMS lists what counts, with question 3 as the example. A prefix only names a number;
each caller files the post under that number's question when the jam's run-sheet has
one, and a number that is not in the run-sheet answers nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FORMS = (
    "A3: …",
    "A3 …",
    "a3- …",
    "A3) …",
    "A3. …",
    "A3– …",
    "A3— …",
    "A 3: …",
    "A 3 - …",
    "@host A3: …",  # a reply on X starts with the handles it replies to
    "@host @guest a3 …",
)

_SEPARATOR = r"[:.)\-\u2013\u2014]"
_ANSWER_PREFIX = re.compile(
    rf"""^\s*
    (?:@\w{{1,15}}\s+)*                              # leading @handles
    [Aa]
    (?:
        (?P<tight>\d{{1,3}})(?:\s*{_SEPARATOR}|(?=\s))   # A3: A3- A3) A3 …
      | [ \t](?P<spaced>\d{{1,3}})\s*{_SEPARATOR}       # A 3: (a space needs the mark)
    )
    \s*""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class AnswerPrefix:
    number: int
    end: int  # where the answer's own words start


def answer_prefix(text: str) -> AnswerPrefix | None:
    """The answer prefix at the start of `text`, if it has one (see FORMS)."""
    match = _ANSWER_PREFIX.match(text)
    if match is None:
        return None
    return AnswerPrefix(number=int(match["tight"] or match["spaced"]), end=match.end())


def answer_number(text: str) -> int | None:
    """The question number an answer prefix names, if any."""
    prefix = answer_prefix(text)
    return prefix.number if prefix else None
