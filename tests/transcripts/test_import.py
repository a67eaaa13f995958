from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from jamhost.jams.models import Jam, JamStatus, Question
from jamhost.posts.models import Kind, Post
from jamhost.transcripts.exports import CSV_COLUMNS
from jamhost.transcripts.models import ImportJob, ImportStatus, Transcript
from jamhost.transcripts.services import jam_archive
from tests.factories import UserFactory

# The export's columns without the last, reply_to (as exports had them before replies were
# marked): a file without a column still imports.
HEADER = ",".join(CSV_COLUMNS[:-1])


def csv_of(client: Any, jam: Jam) -> str:
    response = client.get(f"/jams/{jam.slug}/transcript.csv")
    assert response.status_code == 200
    return response.content.decode("utf-8")


def run_import(tmp_path: Path, payload: bytes, *args: str, name: str = "jam.csv") -> str:
    UserFactory(username="importer")
    path = tmp_path / name
    path.write_bytes(payload)
    out = io.StringIO()
    call_command("import_transcript", str(path), "--host", "importer", *args, stdout=out)
    return out.getvalue()


def refused(tmp_path: Path, payload: bytes, *args: str) -> str:
    jams = Jam.objects.count()
    err = io.StringIO()
    UserFactory(username="importer")
    path = tmp_path / "bad.csv"
    path.write_bytes(payload)
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_transcript", str(path), "--host", "importer", *args, stderr=err)
    assert Jam.objects.count() == jams  # nothing half-imported
    return err.getvalue()


def test_export_import_export_gives_the_same_csv(
    client: Any, ended_jam: Jam, tmp_path: Path
) -> None:
    jam_archive(jam_id=ended_jam.pk)
    first = csv_of(client, ended_jam)
    output = run_import(tmp_path, first.encode("utf-8"), "--title", "Imported jam")
    imported = Jam.objects.get(title="Imported jam")
    assert "Imported 8 posts" in output
    assert imported.status == JamStatus.ARCHIVED and imported.hashtag == "RemoteJam"
    assert Transcript.objects.filter(jam=imported).count() == 1
    questions = list(imported.questions.order_by("number").values_list("number", "text"))
    assert questions == [(1, "What does a great day look like?"), (2, "Which tool saved you time?")]
    assert Post.objects.filter(jam=imported, kind=Kind.QUESTION).count() == 2
    assert csv_of(client, imported) == first


def test_answers_map_to_questions_by_prefix(tmp_path: Path, db: Any) -> None:
    rows = [
        HEADER.replace(",seq", "seq"),
        "1,2026-03-01 18:00:05,,host,Hana,host,Welcome to #PodChat!,,,false,false",
        "2,2026-03-01 18:01:00,,host,Hana,host,Q1: Best mic? #PodChat,,,false,false",
        "3,2026-03-01 18:02:00,,ann,Ann,panelist,A1: A dynamic one #PodChat,,,false,false",
        "4,2026-03-01 18:03:00,,bob,,,a1 - USB is fine #PodChat,,,false,false",
        "5,2026-03-01 18:10:00,,host,Hana,host,Q2. Editing? #PodChat,,,false,false",
        "6,2026-03-01 18:11:00,,bob,,,A2: Descript #PodChat,,,false,true",
        "7,2026-03-01 18:11:30,,cy,,,@host A 1: late but sure #PodChat,,,false,false",
        "8,2026-03-01 18:11:40,,cy,,,A3: no Q3 in this jam #PodChat,,,false,false",
    ]
    run_import(tmp_path, "\n".join(rows).encode())
    jam = Jam.objects.get(hashtag="PodChat")
    assert jam.title == "#PodChat on 2026-03-01"
    assert jam.duration_minutes == 12
    assert list(jam.questions.values_list("number", "text", "offset_minutes")) == [
        (1, "Best mic?", 0),
        (2, "Editing?", 9),  # minutes after the first post
    ]
    answered = dict(Post.objects.filter(jam=jam).values_list("seq", "question__number"))
    assert answered == {1: None, 2: 1, 3: 1, 4: 1, 5: 2, 6: 2, 7: 1, 8: None}
    assert Post.objects.get(jam=jam, seq=6).featured


def test_minimal_columns_in_any_order(tmp_path: Path, db: Any) -> None:
    payload = (
        b"text,author_handle,time_utc\n"
        b'"Q1: Hello? #MinJam",@host,2026-03-01T18:00:00Z\n'
        b'"A1: hi #MinJam",guest,2026-03-01T18:00:30+01:00\n'
    )
    run_import(tmp_path, payload, "--hashtag", "#MinJam", "--title", "Min")
    jam = Jam.objects.get(title="Min")
    posts = list(Post.objects.filter(jam=jam).order_by("seq"))
    assert [p.seq for p in posts] == [1, 2]
    assert posts[1].created_at.isoformat() == "2026-03-01T17:00:30+00:00"  # to UTC
    assert posts[1].question is not None and posts[1].question.number == 1


def test_wrong_columns_are_reported_on_line_1(tmp_path: Path, db: Any) -> None:
    err = refused(tmp_path, b"when,who,what\n2026-03-01 18:00:00,a,b\n")
    assert "line 1:" in err
    assert "unknown columns “when”, “who”, “what”" in err
    assert "missing columns time_utc, author_handle, text" in err


def test_bad_rows_are_reported_with_line_numbers(tmp_path: Path, db: Any) -> None:
    long_text = "x" * 4001
    payload = "\n".join(
        [
            HEADER,
            "1,2026-03-01 18:00:00,,host,Hana,host,Q1: Hi #T,,,false,false",
            "2,yesterday-ish,Q1,ann,,participant,A1: ok #T,,,false,false",  # line 3
            '3,2026-03-01 18:01:00,Q1,ann,,participant,"a, b",,,false,false,extra',  # 4
            '4,2026-03-01 18:02:00,Q1,ann,,guru,"multi\nline",,,maybe,false',  # 5-6
            f"5,2026-03-01 18:03:00,Q1,ann,,participant,{long_text},,,false,false",  # 7
            "6,2026-03-01 18:04:00,Q9,ann,,participant,A9: ?,,,false,false",  # 8
            "3,2026-03-01 18:05:00,,b c,,participant,late,web,ftp://x,false,false",  # 9
            "4,2026-03-01 18:06:00,,ann,,,later,,,false,false",  # 10
        ]
    ).encode()
    err = refused(tmp_path, payload)
    assert "line 3: time_utc “yesterday-ish” is not a date and time" in err
    assert "line 4: 12 fields where the header has 11" in err
    assert "line 5: role “guru” is not one of" in err
    assert "line 5: pinned “maybe” should be true or false" in err
    assert "line 7: text has 4,001 characters; the limit is 4,000" in err
    assert "line 9: author_handle “b c” is not a handle" in err
    assert "line 9: source “web” is not one of" in err
    assert "line 9: link “ftp://x” is not a web address" in err
    assert "line 10: seq 4 does not follow 6" in err


def test_unanswered_question_reference_is_reported(tmp_path: Path, db: Any) -> None:
    payload = f"{HEADER}\n1,2026-03-01 18:04:00,Q9,ann,,participant,A9: ?,,,false,false\n"
    err = refused(tmp_path, payload.encode(), "--hashtag", "T")
    assert "line 2: this row answers Q9, but no row asks it" in err


def test_over_long_rows_are_refused(tmp_path: Path, db: Any) -> None:
    payload = f"{HEADER}\n1,2026-03-01 18:00:00,,ann,,,{'n' * 12000},,,false,false\n"
    err = refused(tmp_path, payload.encode())
    assert "line 2: the row is 12,0" in err and "the limit is 10,000" in err
    huge = f'{HEADER}\n1,2026-03-01 18:00:00,,ann,,,"{"y" * 200_000}",,,false,false\n'
    err = refused(tmp_path, huge.encode())
    assert "line 2: a field is far too long" in err


def test_unknown_encodings_are_refused_with_the_line(tmp_path: Path, db: Any) -> None:
    payload = (
        f"{HEADER}\n1,2026-03-01 18:00:00,,ann,,,Q1: fine #T,,,false,false\n"
        "2,2026-03-01 18:01:00,,ann,Ren\xe9e,,A1: caf\xe9 #T,,,false,false\n"
    ).encode("cp1252")
    err = refused(tmp_path, payload)
    assert "line 3: this line is not utf-8 text (byte 0xe9)" in err
    assert "CSV UTF-8" in err
    err = refused(tmp_path, payload, "--encoding", "klingon-8")
    assert "Unknown encoding “klingon-8”" in err
    # Named, the encoding works; a UTF-16 file with a BOM is read without being told.
    run_import(tmp_path, payload, "--encoding", "cp1252", "--title", "Cp")
    assert Post.objects.get(jam__title="Cp", seq=2).author_name == "Renée"
    run_import(tmp_path, payload.decode("cp1252").encode("utf-16"), "--title", "Sixteen")
    assert Post.objects.get(jam__title="Sixteen", seq=2).text == "A1: café #T"


def test_a_failure_while_writing_leaves_nothing(tmp_path: Path, db: Any) -> None:
    payload = f"{HEADER}\n1,2026-03-01 18:00:00,,host,,host,Q1: hi #T,,,false,false\n"
    for n in range(2, 40):
        payload += f"{n},2026-03-01 18:01:00,Q1,p{n},,,A1: {n} #T,,,false,false\n"
    with connection.cursor() as cursor:  # a real database fault on the 30th post
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER fail_posts BEFORE INSERT ON posts_post WHEN NEW.seq = 30 "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION fail_posts() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER fail_posts BEFORE INSERT ON posts_post FOR EACH ROW "
                "WHEN (NEW.seq = 30) EXECUTE FUNCTION fail_posts()"
            )
    UserFactory(username="importer")
    path = tmp_path / "x.csv"
    path.write_text(payload)
    with pytest.raises(Exception, match="disk full"):
        call_command("import_transcript", str(path), "--host", "importer")
    assert not Jam.objects.exists() and not Post.objects.exists()
    assert not Question.objects.exists()


X_SEARCH = {
    "data": [
        {
            "id": "1900000000000000003",
            "text": "A1: Use a pop filter https://t.co/p #PodChat",
            "author_id": "22",
            "created_at": "2026-03-01T18:02:00.000Z",
            "entities": {"urls": [{"url": "https://t.co/p", "expanded_url": "https://ex.org/pop"}]},
            "public_metrics": {"like_count": 5, "retweet_count": 1},
            "lang": "en",
        },
        {
            "id": "1900000000000000004",
            "text": "RT @ann: A1: Use a pop filter",
            "author_id": "33",
            "created_at": "2026-03-01T18:02:30.000Z",
            "referenced_tweets": [{"type": "retweeted", "id": "1900000000000000003"}],
        },
        {
            "id": "1900000000000000001",
            "text": "Q1: What mic do you use? #PodChat",
            "author_id": "11",
            "created_at": "2026-03-01T18:00:00.000Z",
        },
        {
            "id": "1900000000000000002",
            "text": "A1: whatever was cheapest &amp; &lt;$50 #PodChat",
            "author_id": "33",
            "created_at": "2026-03-01T18:01:00.000Z",
        },
    ],
    "includes": {
        "users": [
            {"id": "11", "username": "PodHost", "name": "Pod Host"},
            {"id": "22", "username": "ann", "name": "Ann", "profile_image_url": "https://p/a.jpg"},
            {"id": "33", "username": "bob", "name": "Bob"},
        ]
    },
    "meta": {"result_count": 4},
}


def test_x_search_json_imports_with_roles_and_questions(
    client: Any, tmp_path: Path, db: Any
) -> None:
    payload = json.dumps(X_SEARCH, indent=2).encode()
    run_import(tmp_path, payload, "--host-handle", "@PodHost", "--panelists", "ann", name="x.json")
    jam = Jam.objects.get(hashtag="PodChat")
    posts = list(Post.objects.filter(jam=jam).order_by("seq"))
    assert [(p.author_handle, p.author_role, p.kind) for p in posts] == [
        ("PodHost", "host", "question"),
        ("bob", "participant", "post"),
        ("ann", "panelist", "post"),
    ]  # in time order, the retweet left out
    assert all(p.question and p.question.number == 1 for p in posts)
    assert posts[2].links == ["https://ex.org/pop"]
    assert posts[2].author_key == "x:22"
    # Text as its author wrote it: X's escaping undone once, t.co links expanded.
    assert posts[1].text == "A1: whatever was cheapest & <$50 #PodChat"
    assert posts[2].text == "A1: Use a pop filter https://ex.org/pop #PodChat"
    rows = csv_of(client, jam).splitlines()
    assert rows[3].endswith(
        ",x,https://x.com/ann/status/1900000000000000003,false,false,"
        ",x,https://x.com/ann/status/1900000000000000003"
    )


def test_x_json_problems_carry_line_numbers(tmp_path: Path, db: Any) -> None:
    broken = json.loads(json.dumps(X_SEARCH))
    del broken["data"][2]["created_at"]
    broken["data"][3]["author_id"] = "99"
    payload = json.dumps(broken, indent=2).encode()
    err = refused(tmp_path, payload, "--format", "x")
    text = payload.decode()
    line_of = {i: text[: text.index(f'"190000000000000000{i}"')].count("\n") + 1 for i in (1, 2)}
    assert f"line {line_of[1]}: post 1900000000000000001: created_at is missing" in err
    assert (
        f"line {line_of[2]}: post 1900000000000000002: its author is not in includes.users" in err
    )
    err = refused(tmp_path, b'{"data": [\n  {"id": 1,}\n]}', "--format", "x")
    assert "line 2: this is not valid JSON" in err


def test_upload_form_imports_and_shows_progress(
    client: Any, db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    assert client.get("/import/").status_code == 302  # log in first
    user = UserFactory(username="uploader")
    client.force_login(user)
    payload = (
        f"{HEADER}\n1,2026-03-01 18:00:00,,host,,host,Q1: Up? #UpJam,,,false,false\n"
        "2,2026-03-01 18:01:00,,ann,,,A1: yes #UpJam,,,false,false\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/import/",
            {"file": SimpleUploadedFile("up.csv", payload), "file_format": "auto"},
        )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/import/{job.pk}/"
    # The task ran (eagerly under test) once the upload was committed.
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.rows_done == job.rows_total == 2
    assert job.jam is not None
    page = client.get(f"/import/{job.pk}/").content.decode()
    assert f"/jams/{job.jam.slug}/transcript/" in page and "hx-trigger" not in page
    assert job.jam.host == user and not job.chunks.exists()  # the upload is deleted


def test_upload_progress_is_polled_until_finished(client: Any, db: Any) -> None:
    user = UserFactory(username="waiter")
    client.force_login(user)
    job = ImportJob.objects.create(
        owner=user,
        filename="big.csv",
        file_format="csv",
        size=4_000_000,
        bytes_done=1_000_000,
        status=ImportStatus.CHECKING,
        rows_done=2500,
    )
    partial = client.get(f"/import/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('<div id="import-progress"')
    assert 'hx-trigger="every 1s"' in partial and "2500 rows checked" in partial
    assert 'value="25"' in partial  # a quarter of the file read
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.WRITING, rows_total=10000, rows_done=0
    )
    partial = client.get(f"/import/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Writing the jam: 10000 posts" in partial
    other = UserFactory(username="nosy")
    client.force_login(other)
    assert client.get(f"/import/{job.pk}/").status_code == 403


def test_upload_form_reports_bad_rows_and_size(
    client: Any, db: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(UserFactory(username="uploader2"))
    bad = f"{HEADER}\n1,not a date,,ann,,,hi #T,,,false,false\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/import/", {"file": SimpleUploadedFile("b.csv", bad)})
    body = client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in body and "line 2: time_utc “not a date”" in body
    assert not Jam.objects.exists()
    settings.IMPORT_MAX_BYTES = 100
    response = client.post("/import/", {"file": SimpleUploadedFile("c.csv", bad * 3)})
    assert response.status_code == 200
    assert "The file is over the limit of 0.0001 MB. Split it" in response.content.decode()
    assert not ImportJob.objects.filter(filename="c.csv").exists()  # nothing stored
