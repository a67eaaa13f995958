"""Imports read as a stream: the same rows and the same line numbers whatever the chunk
size, the file read once, and every piece of an upload gone when its job ends."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from jamhost.transcripts import import_stream
from jamhost.transcripts.exports import CSV_COLUMNS
from jamhost.transcripts.import_csv import rows_from_csv
from jamhost.transcripts.import_parse import ImportRefused
from jamhost.transcripts.import_x import rows_from_x_json
from jamhost.transcripts.importer import ImportOptions, import_job_create, import_job_run
from jamhost.transcripts.models import ImportChunk, ImportJob, ImportStatus
from tests.factories import UserFactory
from tests.transcripts.test_import import X_SEARCH

HEADER = ",".join(CSV_COLUMNS[:-1])  # without reply_to: a file may leave columns out


def x_pages(posts: int, per_page: int = 7) -> bytes:
    """Saved search results, several pages, with users only in each page's includes."""
    pages = []
    for first in range(0, posts, per_page):
        data, users = [], {}
        for n in range(first, min(posts, first + per_page)):
            author = str(100 + n % 5)
            users[author] = {"id": author, "username": f"u{author}", "name": f"Ü{author}"}
            data.append(
                {
                    "id": str(1900000000000000000 + n),
                    "text": ("Q1: first? #Jam" if n == 0 else f"A1: answer {n} ✓ #Jam"),
                    "author_id": author,
                    "created_at": f"2026-03-01T18:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
                    "public_metrics": {"like_count": n},
                }
            )
        pages.append({"data": data, "includes": {"users": list(users.values())}, "meta": {}})
    return json.dumps(pages, indent=2, ensure_ascii=False).encode()


def summary(rows: list[Any]) -> list[tuple[Any, ...]]:
    return [(r.seq, r.line, r.handle, r.text, r.time) for r in rows]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_x_json_gives_the_same_rows_whatever_the_chunk_size(monkeypatch: Any, chunk: int) -> None:
    payload = x_pages(40)
    whole = rows_from_x_json(io.BytesIO(payload))
    monkeypatch.setattr(import_stream, "CHUNK_BYTES", chunk)
    assert summary(rows_from_x_json(io.BytesIO(payload))) == summary(whole)
    assert len(whole) == 40
    text = payload.decode()
    # Each row's line is the line of its id in the file.
    for row in whole:
        assert text.splitlines()[row.line - 1].strip().startswith(f'"id": "{row.metrics["id"]}"')


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
def test_x_json_problems_keep_their_lines_across_chunks(monkeypatch: Any, chunk: int) -> None:
    monkeypatch.setattr(import_stream, "CHUNK_BYTES", chunk)
    broken = json.loads(json.dumps(X_SEARCH))
    del broken["data"][2]["created_at"]
    payload = json.dumps(broken, indent=2).encode()
    text = payload.decode()
    line = text[: text.index('"1900000000000000001"')].count("\n") + 1
    with pytest.raises(ImportRefused) as refused:
        rows_from_x_json(io.BytesIO(payload))
    assert [str(p) for p in refused.value.problems] == [
        f"line {line}: post 1900000000000000001: created_at is missing or not a time "
        "(ask for tweet.fields=created_at)."
    ]
    with pytest.raises(ImportRefused) as refused:
        rows_from_x_json(io.BytesIO(b'{"data": [\n  {"id": "1"},\n  {"id": 1,}\n]}'))
    assert str(refused.value.problems[0]).startswith("line 3: this is not valid JSON")
    with pytest.raises(ImportRefused) as refused:
        rows_from_x_json(io.BytesIO(b'{"data": [{"id": "1"}\n\n'))
    assert str(refused.value.problems[0]).startswith("line 3: expected “,” or “]”")


def test_x_json_shapes_that_are_not_search_results_are_refused() -> None:
    for payload in (b"42", b'"text"', b'{"data": {"id": "1"}}', b"[1, 2]", b'{"data": []} x'):
        with pytest.raises(ImportRefused) as refused:
            rows_from_x_json(io.BytesIO(payload))
        assert refused.value.problems, payload


def test_an_author_listed_in_a_later_page_is_found() -> None:
    first = {"data": [X_SEARCH["data"][2]], "includes": {"users": []}}
    second = {"data": [X_SEARCH["data"][3]], "includes": X_SEARCH["includes"]}
    rows = rows_from_x_json(io.BytesIO(json.dumps([first, second]).encode()))
    assert [r.handle for r in rows] == ["PodHost", "bob"]


@pytest.mark.parametrize("chunk", [1, 2, 3, 1 << 20])
def test_csv_rows_are_the_same_whatever_the_chunk_size(monkeypatch: Any, chunk: int) -> None:
    rows = [f"{HEADER}\r\n", '1,2026-03-01 18:00:00,,host,Hé,host,"Q1: two\r\nlines #T",,,,\r\n']
    rows += [f"{n},2026-03-01 18:0{n}:00,Q1,p{n},,,A1: ünï {n} #T,,,,\r\n" for n in range(2, 9)]
    payload = "".join(rows).encode("utf-8")
    whole = rows_from_csv(io.BytesIO(payload))
    monkeypatch.setattr(import_stream, "CHUNK_BYTES", chunk)
    assert summary(rows_from_csv(io.BytesIO(payload))) == summary(whole)
    assert whole[0].text == "Q1: two\r\nlines #T" and whole[-1].line == 10
    # A byte that is not UTF-8 is reported on its line, wherever the chunks fall.
    bad = payload.replace("ünï 5".encode(), b"\xff 5")
    with pytest.raises(ImportRefused) as refused:
        rows_from_csv(io.BytesIO(bad))
    assert str(refused.value.problems[0]).startswith("line 7: this line is not utf-8 text")


def _upload(owner: Any, payload: bytes, name: str = "x.json") -> ImportJob:
    return import_job_create(
        owner=owner,
        filename=name,
        chunks=SimpleUploadedFile(name, payload).chunks(3),
        options=ImportOptions(),
    )


def test_an_upload_is_stored_in_pieces_and_read_back_in_order(
    monkeypatch: Any, db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setattr(import_stream, "CHUNK_BYTES", 100)
    from jamhost.transcripts import uploads

    monkeypatch.setattr(uploads, "CHUNK_BYTES", 100)
    payload = x_pages(12)
    with django_capture_on_commit_callbacks(execute=False):
        job = _upload(UserFactory(), payload)
    pieces = list(ImportChunk.objects.filter(job=job).order_by("index"))
    assert len(pieces) == -(-len(payload) // 100) and all(len(p.data) <= 100 for p in pieces)
    assert b"".join(bytes(p.data) for p in pieces) == payload
    assert job.size == len(payload) and job.file_format == "x"
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.DONE, job.errors
    assert job.rows_total == 12 and job.jam is not None and job.jam.posts.count() == 12
    assert not ImportChunk.objects.filter(job=job).exists()


def test_a_job_that_fails_on_an_unexpected_error_says_so_and_keeps_no_upload(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with connection.cursor() as cursor:  # a real database fault while writing posts
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER fail_posts BEFORE INSERT ON posts_post "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION fail_posts() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER fail_posts BEFORE INSERT ON posts_post FOR EACH ROW "
                "EXECUTE FUNCTION fail_posts()"
            )
    with django_capture_on_commit_callbacks(execute=True):
        job = _upload(UserFactory(), x_pages(5))
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and job.finished_at is not None
    assert "unexpected error" in job.errors[0] and "Nothing was imported" in job.errors[0]
    assert not ImportChunk.objects.filter(job=job).exists()
    assert not job.jam_id


def test_a_job_cut_off_twice_ends_failed(db: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        job = _upload(UserFactory(), x_pages(5))
    # Two runs started and never finished: the worker died under them (acks_late gave
    # the message back each time). The third delivery gives up with the reason.
    ImportJob.objects.filter(pk=job.pk).update(attempts=2, status=ImportStatus.CHECKING)
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED and "cut off twice" in job.errors[0]
    assert not ImportChunk.objects.filter(job=job).exists()
    assert import_job_run(job_id=job.pk).status == ImportStatus.FAILED  # stays so
