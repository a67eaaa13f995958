"""Reading import files into rows: the CSV export's format, or saved X API v2 search JSON.

Nothing is written here. Every problem found is collected with its line number (up to
MAX_PROBLEMS), so one upload shows the host everything to fix at once.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jamhost.jams.answers import answer_number
from jamhost.jams.hashtags import hashtag_fold, hashtags_extract
from jamhost.networks.x.text import tweet_text, x_unescape
from jamhost.posts.models import AuthorRole, Source
from jamhost.posts.weblinks import avatar_url, web_url
from jamhost.spreadsheets import cell_read
from jamhost.transcripts.exports import CSV_COLUMNS
from jamhost.transcripts.import_stream import (
    JsonReader,
    Readable,
    StreamProblem,
    TextChunks,
    lines,
)

MAX_PROBLEMS = 50
MAX_TEXT = 4000
MAX_ROW_CHARS = 10_000
REQUIRED_COLUMNS = ("time_utc", "author_handle", "text")
QUESTION_PREFIX = re.compile(r"^\s*Q(\d{1,3})\s*[:.)\-–—]\s*", re.IGNORECASE)
QUESTION_CELL = re.compile(r"^\s*[QA]?(\d{1,3})\s*$", re.IGNORECASE)
TRAILING_TAGS = re.compile(r"(\s+#\w+)+\s*$")
HANDLE = re.compile(r"^\w{1,80}$")
TRUE = {"true", "yes", "y", "1", "x"}
FALSE = {"false", "no", "n", "0", ""}
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


class _Problems:
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


def _flag(value: str) -> bool | None:
    value = value.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    return None


def _header_name(name: str) -> str:
    name = name.strip().lower().replace(" ", "_")
    return {"time": "time_utc", "handle": "author_handle", "name": "author_name"}.get(name, name)


def _text(source: Readable, encoding: str = "") -> TextChunks:
    try:
        return TextChunks(source, encoding=encoding)
    except LookupError:
        raise ImportRefused(
            [Problem(0, f"Unknown encoding “{encoding}”. Use utf-8, utf-16 or cp1252.")]
        ) from None


def _csv_lines(chunks: TextChunks) -> Iterator[str]:
    for number, line in enumerate(lines(iter(chunks)), start=1):
        if "\x00" in line:
            raise StreamProblem(number, "this line holds a NUL byte; is it a CSV file?")
        yield line


# The export's rows for polls (source "poll"): results, not posts; an import skips them.
POLL_SOURCE = "poll"


def rows_from_csv(
    source: Readable, *, encoding: str = "", progress: Progress | None = None
) -> list[ImportRow]:
    """Rows of a CSV in the export's columns (seq, time_utc, question, author_handle,
    author_name, role, text, source, link, pinned, featured, reply_to). time_utc,
    author_handle and text are required; the rest may be left out. Reads the file once,
    as a stream. Raises ImportRefused."""
    chunks = _text(source, encoding)
    try:
        return _csv_rows(csv.reader(_csv_lines(chunks)), chunks, progress)
    except StreamProblem as exc:
        raise ImportRefused([Problem(exc.line, exc.message)]) from None


def _csv_rows(reader: Any, chunks: TextChunks, progress: Progress | None) -> list[ImportRow]:
    problems = _Problems()
    try:
        header = [_header_name(h) for h in next(reader)]
    except StopIteration:
        raise ImportRefused([Problem(0, "The file is empty.")]) from None
    except csv.Error as exc:
        raise ImportRefused([Problem(1, f"the header is not valid CSV ({exc}).")]) from None
    expected = ", ".join(CSV_COLUMNS)
    unknown = [h for h in header if h not in CSV_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    duplicate = sorted({h for h in header if header.count(h) > 1})
    if unknown or missing or duplicate:
        parts = []
        if unknown:
            parts.append("unknown columns " + ", ".join(f"“{h}”" for h in unknown))
        if missing:
            parts.append("missing columns " + ", ".join(missing))
        if duplicate:
            parts.append("repeated columns " + ", ".join(duplicate))
        raise ImportRefused(
            [Problem(1, "; ".join(parts) + f". The header should name: {expected}.")]
        )
    rows: list[ImportRow] = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader cannot resync after a broken row: report it and stop here.
            reason = (
                f"a field is far too long; rows are limited to {MAX_ROW_CHARS:,} characters"
                if "field limit" in str(exc)
                else f"this row is not valid CSV ({exc})"
            )
            problems.add(start, reason + ".")
            problems.raise_any()
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if progress and line % 1000 == 0:
            progress(len(rows), chunks.bytes_read)
        if len(record) != len(header):
            problems.add(
                start,
                f"{len(record)} fields where the header has {len(header)}. "
                "Quote any text that holds a comma.",
            )
            continue
        cells = dict(zip(header, (cell_read(c) for c in record), strict=True))
        if cells.get("source", "").strip().lower() == POLL_SOURCE:
            continue  # a poll's results, which the export writes after the posts: no post
        row = _csv_row(cells, start, problems)
        if row is not None:
            rows.append(row)
    _check_seqs(rows, problems)
    _check_replies(rows, problems)
    problems.raise_any()
    if not rows:
        raise ImportRefused([Problem(0, "The file has a header but no rows.")])
    if progress:
        progress(len(rows), chunks.bytes_read)
    return rows


def _csv_row(cells: dict[str, str], line: int, problems: _Problems) -> ImportRow | None:
    before = len(problems.items)
    length = sum(len(c) for c in cells.values())
    if length > MAX_ROW_CHARS:
        problems.add(
            line, f"the row is {length:,} characters long; the limit is {MAX_ROW_CHARS:,}."
        )
        return None
    seq: int | None = None
    if cells.get("seq", "").strip():
        raw = cells["seq"].strip()
        if raw.isascii() and raw.isdigit() and int(raw) > 0:
            seq = int(raw)
        else:
            problems.add(line, f"seq “{raw}” is not a whole number above 0.")
    moment = parse_time(cells["time_utc"])
    if moment is None:
        problems.add(
            line,
            f"time_utc “{cells['time_utc'].strip()}” is not a date and time. Write it in UTC "
            "as 2026-11-22 18:05:00.",
        )
    question = None
    raw_q = cells.get("question", "").strip()
    if raw_q:
        match = QUESTION_CELL.match(raw_q)
        if match:
            question = int(match.group(1))
        else:
            problems.add(line, f"question “{raw_q}” is not a question number like Q3.")
    handle = cells["author_handle"].strip().lstrip("@")
    if not HANDLE.match(handle):
        problems.add(
            line,
            f"author_handle “{handle}” is not a handle (letters, digits and _, 1 to 80)."
            if handle
            else "author_handle is empty.",
        )
    name = cells.get("author_name", "").strip()
    if len(name) > 120:
        problems.add(line, f"author_name has {len(name)} characters; the limit is 120.")
    role = cells.get("role", "").strip().lower() or AuthorRole.PARTICIPANT
    if role not in AuthorRole.values:
        problems.add(line, f"role “{role}” is not one of {', '.join(AuthorRole.values)}.")
    body = cells["text"].strip()
    if not body:
        problems.add(line, "text is empty.")
    elif len(body) > MAX_TEXT:
        problems.add(line, f"text has {len(body):,} characters; the limit is {MAX_TEXT:,}.")
    source = cells.get("source", "").strip().lower() or Source.IMPORT
    if source not in Source.values:
        problems.add(line, f"source “{source}” is not one of {', '.join(Source.values)}.")
    link = cells.get("link", "").strip()
    if link and not web_url(link):
        problems.add(line, f"link “{link[:80]}” is not a web address (http:// or https://).")
    flags = {}
    for column in ("pinned", "featured"):
        value = _flag(cells.get(column, ""))
        if value is None:
            problems.add(line, f"{column} “{cells[column].strip()}” should be true or false.")
        flags[column] = bool(value)
    reply_to: int | None = None
    raw_reply = cells.get("reply_to", "").strip()
    if raw_reply:
        if raw_reply.isascii() and raw_reply.isdigit() and int(raw_reply) > 0:
            reply_to = int(raw_reply)
        else:
            problems.add(line, f"reply_to “{raw_reply}” is not the seq of a row.")
    if len(problems.items) > before or moment is None:
        return None
    return ImportRow(
        line=line,
        seq=seq,
        time=moment,
        question=question,
        handle=handle,
        name=name,
        role=role,
        text=body,
        source=source,
        link=link,
        pinned=flags["pinned"],
        featured=flags["featured"],
        author_key=f"import:{handle.lower()}",
        reply_to=reply_to,
    )


def _check_seqs(rows: list[ImportRow], problems: _Problems) -> None:
    given = [r for r in rows if r.seq is not None]
    if given and len(given) != len(rows):
        blank = next(r for r in rows if r.seq is None)
        problems.add(blank.line, "seq is empty; give every row a seq, or leave the column out.")
        return
    last = 0
    for row in given:
        if row.seq is not None and row.seq <= last:
            problems.add(row.line, f"seq {row.seq} does not follow {last}; seqs must increase.")
        last = row.seq or last


def _check_replies(rows: list[ImportRow], problems: _Problems) -> None:
    """A reply names an earlier row by its seq (its position when the file has no seq)."""
    earlier: set[int] = set()
    for index, row in enumerate(rows, start=1):
        seq = row.seq or index
        if row.reply_to is not None and row.reply_to not in earlier:
            problems.add(row.line, f"reply_to {row.reply_to} is not the seq of an earlier row.")
        earlier.add(seq)


PAGE = 'a page of X search results ({"data": [...], "includes": {"users": [...]}})'


def rows_from_x_json(
    source: Readable,
    *,
    host_handle: str = "",
    panelists: tuple[str, ...] = (),
    progress: Progress | None = None,
) -> list[ImportRow]:
    """Rows of saved X API v2 search results: one response ({"data": [...], "includes":
    {"users": [...]}}) or a list of them (one per page). Retweets are left out; the
    host's and panelists' handles give them their roles. Read once, as a stream, one post
    at a time: a post waits only until its page's users are read. Raises ImportRefused."""
    chunks = _text(source)
    reader = JsonReader(iter(chunks))
    problems = _Problems()
    authors = _Authors(
        host=host_handle.strip().lstrip("@").lower(),
        panel={p.strip().lstrip("@").lower() for p in panelists if p.strip()},
    )
    rows: list[ImportRow] = []
    seen: set[str] = set()
    waiting: list[tuple[Any, int, int]] = []  # (post, index in the file, line)
    count = 0

    def settle(*, final: bool) -> None:
        nonlocal waiting
        still: list[tuple[Any, int, int]] = []
        for tweet, index, line in waiting:
            if not final and isinstance(tweet, dict) and not authors.knows(tweet):
                still.append((tweet, index, line))
                continue
            row = _x_row(tweet, index, line, authors, problems)
            if row is not None and row.link not in seen:
                seen.add(row.link)
                rows.append(row)
        waiting = still

    def page() -> None:
        nonlocal count
        for key in reader.members(PAGE):
            if key == "data":
                for _ in reader.elements('"data", a list of posts'):
                    tweet, start, end = reader.value()
                    waiting.append((tweet, count, _id_line(reader, tweet, start, end)))
                    count += 1
                    if progress and count % 1000 == 0:
                        progress(count, chunks.bytes_read)
            elif key == "includes":
                includes, _, _ = reader.value()
                authors.add_from(includes)
            else:
                reader.value()
        settle(final=False)

    try:
        if reader.peek() == "[":
            for _ in reader.elements("a list of pages"):
                page()
        else:
            page()
        reader.end()
    except StreamProblem as exc:
        raise ImportRefused([Problem(exc.line, exc.message)]) from None
    settle(final=True)
    problems.raise_any()
    if not rows:
        raise ImportRefused([Problem(0, "The file holds no posts (retweets are left out).")])
    rows.sort(key=lambda r: (r.time, int(r.metrics.get("id", "0"))))
    for seq, row in enumerate(rows, start=1):
        row.seq = seq
    seq_of = {str(row.metrics["id"]): row.seq for row in rows}
    for row in rows:
        parent = seq_of.get(row.replied_to)
        if parent is not None and row.seq is not None and parent < row.seq:
            row.reply_to = parent  # a reply to a post in the file stays a reply
    if progress:
        progress(count, chunks.bytes_read)
    return rows


def _id_line(reader: JsonReader, tweet: Any, start: int, end: int) -> int:
    """The line of the post's id in the file (else of the post's start)."""
    tweet_id = str(tweet.get("id", "")) if isinstance(tweet, dict) else ""
    at = reader.buf.find(f'"{tweet_id}"', start, end) if tweet_id else -1
    return reader.line_at(at if at >= 0 else start)


@dataclass
class _Authors:
    """The users of includes.users read so far, and who hosts and who is on the panel."""

    host: str
    panel: set[str]
    users: dict[str, dict[str, str]] = field(default_factory=dict)

    def add_from(self, includes: Any) -> None:
        if not isinstance(includes, dict):
            return
        for user in includes.get("users") or []:
            if isinstance(user, dict) and "id" in user:
                self.users[str(user["id"])] = {
                    "id": str(user["id"]),
                    "username": str(user.get("username", "")),
                    "name": str(user.get("name", "")),
                    "profile_image_url": str(user.get("profile_image_url", "")),
                }

    def knows(self, tweet: dict[str, Any]) -> bool:
        return str(tweet.get("author_id", "")) in self.users


def _x_row(
    tweet: Any, index: int, line: int, authors: _Authors, problems: _Problems
) -> ImportRow | None:
    if not isinstance(tweet, dict):
        problems.add(line, f"post {index + 1} in data is not an object.")
        return None
    tweet_id = str(tweet.get("id", ""))
    host, panel, users = authors.host, authors.panel, authors.users
    where = f"post {tweet_id or index + 1}: "
    if any(ref.get("type") == "retweeted" for ref in tweet.get("referenced_tweets") or []):
        return None
    if not tweet_id.isdigit():
        problems.add(line, f"{where}its id is missing or not a number.")
        return None
    # Saved X answers hold text as X sends it: &, <, > escaped, links as t.co.
    note = (tweet.get("note_tweet") or {}).get("text")
    body = (x_unescape(str(note)) if note else tweet_text(tweet)).strip()
    moment = parse_time(str(tweet.get("created_at") or ""))
    user = users.get(str(tweet.get("author_id", "")))
    if moment is None:
        problems.add(
            line, f"{where}created_at is missing or not a time (ask for tweet.fields=created_at)."
        )
    if user is None:
        problems.add(
            line, f"{where}its author is not in includes.users (ask for expansions=author_id)."
        )
    if not body:
        problems.add(line, f"{where}its text is empty.")
    elif len(body) > MAX_TEXT:
        problems.add(
            line, f"{where}its text has {len(body):,} characters; the limit is {MAX_TEXT:,}."
        )
    if moment is None or user is None or not body or len(body) > MAX_TEXT:
        return None
    handle = str(user.get("username", ""))
    if not HANDLE.match(handle):
        problems.add(line, f"{where}its author's username “{handle}” is not a handle.")
        return None
    role = (
        AuthorRole.HOST
        if handle.lower() == host
        else AuthorRole.PANELIST
        if handle.lower() in panel
        else AuthorRole.PARTICIPANT
    )
    urls = [  # web addresses only: a javascript: or data: URL never becomes a link
        url
        for u in (tweet.get("entities") or {}).get("urls") or []
        if isinstance(u, dict) and (url := web_url(str(u.get("expanded_url") or u.get("url"))))
    ]
    metrics: dict[str, Any] = {
        k: v for k, v in (tweet.get("public_metrics") or {}).items() if isinstance(v, int)
    }
    metrics["id"] = tweet_id
    replied_to = next(
        (
            str(ref.get("id", ""))
            for ref in tweet.get("referenced_tweets") or []
            if isinstance(ref, dict) and ref.get("type") == "replied_to"
        ),
        "",
    )
    return ImportRow(
        line=line,
        seq=None,
        time=moment,
        question=None,
        handle=handle,
        name=str(user.get("name", ""))[:120],
        role=role,
        text=body,
        source=Source.X,
        link=f"https://x.com/{handle}/status/{tweet_id}",
        author_key=f"x:{user['id']}",
        avatar_url=avatar_url(str(user.get("profile_image_url", ""))),
        links=urls,
        metrics=metrics,
        lang=str(tweet.get("lang", ""))[:12],
        replied_to=replied_to,
    )


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
