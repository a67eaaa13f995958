"""Reading the CSV export's format into import rows (one pass over the file, as a
stream); every problem is collected with its line number."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any

from jamhost.posts.models import AuthorRole, Source
from jamhost.posts.weblinks import web_url
from jamhost.spreadsheets import cell_read
from jamhost.transcripts.exports import CSV_COLUMNS, CSV_NETWORK_COLUMNS
from jamhost.transcripts.import_parse import (
    HANDLE,
    MAX_TEXT,
    ImportRefused,
    ImportRow,
    Problem,
    Problems,
    Progress,
    parse_time,
    text_chunks,
)
from jamhost.transcripts.import_stream import (
    Readable,
    StreamProblem,
    TextChunks,
    lines,
)

MAX_ROW_CHARS = 10_000
REQUIRED_COLUMNS = ("time_utc", "author_handle", "text")
QUESTION_CELL = re.compile(r"^\s*[QA]?(\d{1,3})\s*$", re.IGNORECASE)
TRUE = {"true", "yes", "y", "1", "x"}
FALSE = {"false", "no", "n", "0", ""}
# The export's rows for polls (source "poll"): results, not posts; an import skips them.
POLL_SOURCE = "poll"


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


def _csv_lines(chunks: TextChunks) -> Iterator[str]:
    for number, line in enumerate(lines(iter(chunks)), start=1):
        if "\x00" in line:
            raise StreamProblem(number, "this line holds a NUL byte; is it a CSV file?")
        yield line


def rows_from_csv(
    source: Readable, *, encoding: str = "", progress: Progress | None = None
) -> list[ImportRow]:
    """Rows of a CSV in the export's columns (seq, time_utc, question, author_handle,
    author_name, role, text, source, link, pinned, featured, reply_to). time_utc,
    author_handle and text are required; the rest may be left out. Reads the file once,
    as a stream. Raises ImportRefused."""
    chunks = text_chunks(source, encoding)
    try:
        return _csv_rows(csv.reader(_csv_lines(chunks)), chunks, progress)
    except StreamProblem as exc:
        raise ImportRefused([Problem(exc.line, exc.message)]) from None


def _csv_rows(reader: Any, chunks: TextChunks, progress: Progress | None) -> list[ImportRow]:
    problems = Problems()
    try:
        header = [_header_name(h) for h in next(reader)]
    except StopIteration:
        raise ImportRefused([Problem(0, "The file is empty.")]) from None
    except csv.Error as exc:
        raise ImportRefused([Problem(1, f"the header is not valid CSV ({exc}).")]) from None
    expected = ", ".join(CSV_COLUMNS)
    # The export's network columns are read as nothing: the file can come back as it went.
    unknown = [h for h in header if h not in CSV_COLUMNS + CSV_NETWORK_COLUMNS]
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


def _csv_row(cells: dict[str, str], line: int, problems: Problems) -> ImportRow | None:
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


def _check_seqs(rows: list[ImportRow], problems: Problems) -> None:
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


def _check_replies(rows: list[ImportRow], problems: Problems) -> None:
    """A reply names an earlier row by its seq (its position when the file has no seq)."""
    earlier: set[int] = set()
    for index, row in enumerate(rows, start=1):
        seq = row.seq or index
        if row.reply_to is not None and row.reply_to not in earlier:
            problems.add(row.line, f"reply_to {row.reply_to} is not the seq of an earlier row.")
        earlier.add(seq)
