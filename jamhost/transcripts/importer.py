"""Importing a past jam: rows read by import_csv or import_x become a new jam, archived at once.

All or nothing: the jam, its questions and posts and its transcript are written in one
transaction, after every row has been checked. The file is read once, as a stream (see
import_stream), and posts are inserted in batches inside that transaction.

An upload becomes an ImportJob, run by a task on its own Celery queue ("imports"), so an
import never waits behind, or delays, an archive. A job always ends "done" or "failed"
with its reason, and its upload is deleted either way: a run that raises ends failed, a
run cut off twice (a worker lost mid-import) ends failed, and the import sweep fails any
job that has made no progress for IMPORT_STALL_SECONDS (its task was lost).

An imported jam was never live, so its posts are stored directly with the seqs the file
gives (or 1..n), not through the live post service: there is nothing to publish, and
keeping seqs is what makes export -> import -> export give the same CSV.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jamhost.jams.hashtags import hashtag_clean, hashtag_key
from jamhost.jams.models import Jam, JamStatus, Membership, Question, Role
from jamhost.jams.services import jam_save_with_unique_slug
from jamhost.posts.models import AuthorRole, Kind, Post, PostStatus
from jamhost.transcripts.import_csv import rows_from_csv
from jamhost.transcripts.import_parse import (
    ImportRefused,
    ImportRow,
    Problem,
    Progress,
    hashtag_guess,
    question_text,
    questions_assign,
)
from jamhost.transcripts.import_stream import Readable
from jamhost.transcripts.import_x import rows_from_x_json
from jamhost.transcripts.models import ImportJob, ImportStatus
from jamhost.transcripts.services import jam_archive
from jamhost.transcripts.uploads import UploadReader, UploadTooLarge, upload_delete, upload_store

log = logging.getLogger(__name__)
FORMATS = ("csv", "x")
MAX_DURATION_MINUTES = 24 * 60
POST_BATCH = 2000
MAX_ATTEMPTS = 2
UNFINISHED = (ImportStatus.QUEUED, ImportStatus.CHECKING, ImportStatus.WRITING)


@dataclass(frozen=True)
class ImportOptions:
    file_format: str = "auto"
    title: str = ""
    hashtag: str = ""
    encoding: str = ""
    host_handle: str = ""
    panelists: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ImportOptions:
        return cls(
            file_format=raw.get("file_format", "auto"),
            title=raw.get("title", ""),
            hashtag=raw.get("hashtag", ""),
            encoding=raw.get("encoding", ""),
            host_handle=raw.get("host_handle", ""),
            panelists=tuple(raw.get("panelists", ())),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_format": self.file_format,
            "title": self.title,
            "hashtag": self.hashtag,
            "encoding": self.encoding,
            "host_handle": self.host_handle,
            "panelists": list(self.panelists),
        }


def format_detect(*, filename: str, head: bytes, chosen: str = "auto") -> str:
    """The format chosen, else X JSON for a .json name or a file that opens with { or [."""
    if chosen in FORMATS:
        return chosen
    if filename.lower().endswith(".json") or head.lstrip(b"\xef\xbb\xbf \r\n\t")[:1] in (
        b"{",
        b"[",
    ):
        return "x"
    return "csv"


def rows_read(
    *, source: Readable, file_format: str, options: ImportOptions, progress: Progress | None = None
) -> list[ImportRow]:
    """Read the file once, front to back, and check every row; raise ImportRefused listing
    every bad row. `progress` is told (rows, bytes read) now and then."""
    if file_format == "x":
        rows = rows_from_x_json(
            source,
            host_handle=options.host_handle,
            panelists=options.panelists,
            progress=progress,
        )
    else:
        rows = rows_from_csv(source, encoding=options.encoding, progress=progress)
    problems = questions_assign(rows)
    by_seq = {(row.seq or index): row for index, row in enumerate(rows, start=1)}
    for row in rows:
        parent = by_seq.get(row.reply_to) if row.reply_to is not None else None
        if parent is not None and row.question is None and not row.is_question:
            row.question = parent.question  # as ingest does: a reply stays with its question
    times = [row.time for row in rows]
    if times and max(times) - min(times) > timedelta(minutes=MAX_DURATION_MINUTES):
        problems.append(
            Problem(
                0,
                "The posts span more than a day; a jam lasts at most 24 hours. "
                "Split the file into one file per jam.",
            )
        )
    for row in rows:
        if row.is_question and len(question_text(row)) > 250:
            problems.append(Problem(row.line, "the question is over 250 characters."))
    if problems:
        raise ImportRefused(problems)
    return rows


def transcript_import(*, owner: Any, rows: list[ImportRow], options: ImportOptions) -> Jam:
    """Create an archived jam, hosted by `owner`, from checked rows. One transaction:
    on any error nothing is left behind. Posts go in batches of POST_BATCH. Raises
    ValidationError for a bad title or hashtag."""
    if not rows:
        raise ValidationError("There is nothing to import.")
    tag_raw = options.hashtag or hashtag_guess(rows)
    if not tag_raw:
        raise ValidationError(
            "No hashtag found in the posts. Give the jam's hashtag (such as #PodcastChat)."
        )
    tag = hashtag_clean(tag_raw)
    first = min(r.time for r in rows)
    last = max(r.time for r in rows)
    duration = max(5, min(MAX_DURATION_MINUTES, math.ceil((last - first).total_seconds() / 60)))
    title = options.title.strip()[:200] or f"#{tag} on {first:%Y-%m-%d}"
    with transaction.atomic():
        jam = Jam(
            title=title,
            hashtag=tag,
            hashtag_key=hashtag_key(tag),
            host=owner,
            starts_at=first,
            duration_minutes=duration,
            status=JamStatus.ENDED,
            went_live_at=first,
            ended_at=last,
            description=f"Imported on {timezone.now():%Y-%m-%d}.",
        )
        jam_save_with_unique_slug(jam, fallback="imported-jam")
        Membership.objects.create(jam=jam, user=owner, role=Role.HOST)
        questions = {
            row.question: Question(
                jam=jam,
                number=row.question,
                text=question_text(row) or f"Q{row.question}",
                offset_minutes=min(duration - 1, int((row.time - first).total_seconds() // 60)),
                released_at=row.time,
            )
            for row in rows
            if row.is_question and row.question is not None
        }
        Question.objects.bulk_create(questions.values())
        last_seq = 0
        pk_of: dict[int, int] = {}
        for batch in _batches(_posts(jam, rows, questions), POST_BATCH):
            Post.objects.bulk_create(batch)
            last_seq = max(last_seq, *(p.seq for p in batch))
            pk_of.update((p.seq, p.pk) for p in batch if p.pk is not None)
        # A reply names its parent by seq; the parent's row exists once its batch is in.
        replies = [
            Post(pk=pk_of[row.seq or index], reply_to_id=pk_of[row.reply_to])
            for index, row in enumerate(rows, start=1)
            if row.reply_to is not None
        ]
        Post.objects.bulk_update(replies, ["reply_to"], batch_size=POST_BATCH)
        Jam.objects.filter(pk=jam.pk).update(last_seq=last_seq, rev=last_seq)
        current = max(questions.values(), key=lambda q: q.number, default=None)
        if current is not None:
            Jam.objects.filter(pk=jam.pk).update(current_question=current)
        jam_archive(jam_id=jam.pk)
    jam.refresh_from_db()
    return jam


def _posts(jam: Jam, rows: list[ImportRow], questions: dict[int, Question]) -> Iterator[Post]:
    for index, row in enumerate(rows, start=1):
        seq = row.seq or index
        metrics = dict(row.metrics)
        if row.link:
            metrics["link"] = row.link
        yield Post(
            jam=jam,
            seq=seq,
            rev=seq,
            kind=Kind.QUESTION if row.is_question else Kind.POST,
            question=questions.get(row.question) if row.question else None,
            author_key=row.author_key,
            author_handle=row.handle,
            author_name=row.name,
            author_avatar_url=row.avatar_url,
            author_role=row.role or AuthorRole.PARTICIPANT,
            body=row.text,
            text=row.text,
            source=row.source,
            status=PostStatus.VISIBLE,
            pinned=row.pinned,
            featured=row.featured,
            links=row.links,
            metrics=metrics,
            lang=row.lang,
            created_at=row.time,
        )


def _batches(posts: Iterable[Post], size: int) -> Iterator[list[Post]]:
    batch: list[Post] = []
    for post in posts:
        batch.append(post)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_job_create(
    *, owner: Any, filename: str, chunks: Iterable[bytes], options: ImportOptions
) -> ImportJob:
    """Store an upload, in pieces, to import in the background; the import task is
    enqueued after commit. Raises ValidationError for an empty or oversized file, and
    while the owner already has IMPORT_MAX_ACTIVE imports under way."""
    limit = settings.IMPORT_MAX_BYTES
    active = ImportJob.objects.filter(owner=owner, status__in=UNFINISHED).count()
    if active >= settings.IMPORT_MAX_ACTIVE:
        raise ValidationError(
            {
                "file": f"You have {active} import{'s' if active > 1 else ''} under way; "
                "wait for one to finish, then upload this file."
            }
        )
    with transaction.atomic():
        job = ImportJob.objects.create(
            owner=owner, filename=filename[:200], file_format="csv", options=options.as_dict()
        )
        try:
            size = upload_store(job_id=job.pk, chunks=chunks, limit=limit)
        except UploadTooLarge:
            raise ValidationError(
                {
                    "file": f"The file is over the limit of {limit / 1e6:g} MB. Split it into "
                    "one file per jam."
                }
            ) from None
        if not size:
            raise ValidationError({"file": "The file is empty."})
        head = UploadReader(job.pk).read(64)
        job.size = size
        job.file_format = format_detect(filename=filename, head=head, chosen=options.file_format)
        job.save(update_fields=["size", "file_format"])
        transaction.on_commit(lambda: _import_enqueue(job.pk), robust=True)
    return job


def _import_enqueue(job_id: int) -> None:
    from jamhost.transcripts.tasks import import_transcript

    import_transcript.delay(job_id)


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a stored import: check every row (showing progress), then write the jam in
    one transaction, which also marks the job done. Idempotent: a finished job is left as
    it is. Whatever happens, the job ends done or failed with its reason (unless the
    database itself is unreachable: then the import sweep fails it later)."""
    job = ImportJob.objects.select_related("owner").get(pk=job_id)
    if job.is_finished:
        return job
    ImportJob.objects.filter(pk=job.pk).update(
        attempts=F("attempts") + 1,
        status=ImportStatus.CHECKING,
        rows_done=0,
        bytes_done=0,
        updated_at=timezone.now(),
    )
    job.refresh_from_db()
    if job.attempts > MAX_ATTEMPTS:
        _job_fail(
            job,
            [
                "The import was cut off twice (the worker running it stopped, perhaps out of "
                "memory). Nothing was imported. Split the file into smaller ones and upload "
                "them again."
            ],
        )
        job.refresh_from_db()
        return job
    options = ImportOptions.from_dict(job.options)

    def checking(rows: int, read: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            rows_done=rows, bytes_done=read, updated_at=timezone.now()
        )

    try:
        rows = rows_read(
            source=UploadReader(job.pk),
            file_format=job.file_format,
            options=options,
            progress=checking,
        )
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.WRITING,
            rows_done=0,
            rows_total=len(rows),
            bytes_done=job.size,
            updated_at=timezone.now(),
        )
        with transaction.atomic():
            jam = transcript_import(owner=job.owner, rows=rows, options=options)
            done = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.WRITING).update(
                status=ImportStatus.DONE,
                errors=[],
                jam=jam,
                rows_done=len(rows),
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
            if not done:  # the sweep gave up on it meanwhile: its word stands
                raise _Abandoned
            upload_delete(job_id=job.pk)
    except ImportRefused as exc:
        _job_fail(job, [str(p) for p in exc.problems])
    except ValidationError as exc:
        _job_fail(job, exc.messages)
    except _Abandoned:
        log.warning("import %s finished after the sweep had failed it; rolled back", job.pk)
    except Exception as exc:
        log.exception("import %s failed", job.pk)
        _job_fail(
            job,
            [
                f"The import stopped on an unexpected error ({type(exc).__name__}). Nothing "
                "was imported. Upload the file again; if it fails again, tell the site's "
                "operators."
            ],
        )
    job.refresh_from_db()
    return job


class _Abandoned(Exception):
    pass


def _job_fail(job: ImportJob, errors: list[str]) -> None:
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk, status__in=UNFINISHED).update(
            status=ImportStatus.FAILED,
            errors=errors,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        upload_delete(job_id=job.pk)


def import_sweep(*, now: datetime | None = None) -> list[int]:
    """Fail every unfinished import that has shown no progress for IMPORT_STALL_SECONDS:
    its task was lost (the broker or a worker went away) and nothing else would ever end
    it. Returns the ids failed."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.IMPORT_STALL_SECONDS)
    minutes = max(1, round(settings.IMPORT_STALL_SECONDS / 60))
    failed = []
    stalled = ImportJob.objects.filter(status__in=UNFINISHED, updated_at__lt=cutoff)
    for job in stalled.only("pk", "status"):
        never_started = job.status == ImportStatus.QUEUED
        reason = (
            f"The import never started: no import worker took it within {minutes} minutes."
            if never_started
            else f"The import stopped: nothing moved for {minutes} minutes (the worker "
            "running it was lost)."
        )
        with transaction.atomic():
            changed = ImportJob.objects.filter(
                pk=job.pk, status=job.status, updated_at__lt=cutoff
            ).update(
                status=ImportStatus.FAILED,
                errors=[reason + " Nothing was imported; upload the file again."],
                finished_at=now,
                updated_at=now,
            )
            if changed:
                upload_delete(job_id=job.pk)
                failed.append(job.pk)
    if failed:
        log.warning("import sweep failed stalled imports %s", failed)
    return failed
