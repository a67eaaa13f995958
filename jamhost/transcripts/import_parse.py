"""Reading import files into rows: what both formats share (rows, problems, times, the
questions rows answer). The formats themselves: import_csv (the CSV export's format) and
import_x (saved X API v2 search JSON).

Nothing is written here. Every problem found is collected with its line number (up to
MAX_PROBLEMS), so one upload shows the host everything to fix at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jamhost.jams.answers import answer_number
from jamhost.jams.hashtags import hashtag_fold, hashtags_extract
from jamhost.posts.models import AuthorRole
from jamhost.transcripts.import_stream import (
    Readable,
    TextChunks,
)

MAX_PROBLEMS = 50
MAX_TEXT = 4000
QUESTION_PREFIX = re.compile(r"^\s*Q(\d{1,3})\s*[:.)\-–—]\s*", re.IGNORECASE)
TRAILING_TAGS = re.compile(r"(\s+#\w+)+\s*$")
HANDLE = re.compile(r"^\w{1,80}$")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")

# Called now and then while reading: (rows read so far, bytes of the file read so far).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class ImportRefused(Exception):
    """The file cannot be imported; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems[:3]))
        self.problems = problems


@dataclass(slots=True)
class ImportRow:
    line: int
    seq: int | None
    time: datetime
    question: int | None
    handle: str
    name: str
    role: str
    text: str
    source: str
    link: str
    pinned: bool = False
    featured: bool = False
    author_key: str = ""
    avatar_url: str = ""
    links: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    lang: str = ""
    is_question: bool = False
    reply_to: int | None = None  # the seq of the row this one replies to
    replied_to: str = ""  # X: the id of the post this one replies to


class Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, line: int, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(line, message))

    def raise_any(self) -> None:
        if self.items:
            raise ImportRefused(self.items)


def parse_time(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        for fmt in TIME_FORMATS:
            try:
                moment = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if moment is None:
        return None
    if moment.tzinfo is None:  # the column is UTC by definition
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def text_chunks(source: Readable, encoding: str = "") -> TextChunks:
    try:
        return TextChunks(source, encoding=encoding)
    except LookupError:
        raise ImportRefused(
            [Problem(0, f"Unknown encoding “{encoding}”. Use utf-8, utf-16 or cp1252.")]
        ) from None


def questions_assign(rows: list[ImportRow]) -> list[Problem]:
    """Mark each question row and tie answers to questions, in place.

    The first row whose text starts "Qn:" (from the host, when the file says who hosts)
    asks question n. Other rows answer the question their `question` cell names or, with
    none, the one their "An:" prefix names. Returns the problems found.
    """
    asked: dict[int, ImportRow] = {}
    has_host = any(r.role == AuthorRole.HOST for r in rows)
    for row in rows:
        match = QUESTION_PREFIX.match(row.text)
        if not match or (has_host and row.role != AuthorRole.HOST):
            continue
        number = int(match.group(1))
        if number not in asked and row.question in (None, number):
            asked[number] = row
            row.is_question = True
            row.question = number
    problems = []
    for row in rows:
        if row.is_question:
            continue
        if row.question is not None:
            if row.question not in asked:
                problems.append(
                    Problem(
                        row.line,
                        f"this row answers Q{row.question}, but no row asks it (a row whose "
                        f"text starts “Q{row.question}:”).",
                    )
                )
            continue
        answers = answer_number(row.text)
        if answers is not None and answers in asked:
            row.question = answers
    return problems[:MAX_PROBLEMS]


def question_text(row: ImportRow) -> str:
    text = QUESTION_PREFIX.sub("", row.text, count=1)
    return " ".join(TRAILING_TAGS.sub("", text).split())


def hashtag_guess(rows: list[ImportRow]) -> str:
    """The hashtag most rows carry (question rows count first, then the rest)."""
    counts: dict[str, int] = {}
    spelling: dict[str, str] = {}
    for row in rows:
        weight = 1000 if row.is_question else 1
        for tag in (h.tag for h in hashtags_extract(row.text)):
            key = hashtag_fold(tag)
            counts[key] = counts.get(key, 0) + weight
            spelling.setdefault(key, tag)
    if not counts:
        return ""
    best = max(sorted(counts), key=lambda k: counts[k])
    return spelling[best]
