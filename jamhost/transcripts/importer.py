"""Importing a past jam: rows read by import_parse become a new jam, archived at once.

All or nothing: the jam, its questions and posts and its transcript are written in one
transaction, after every row has been checked. An imported jam was never live, so its
posts are stored directly with the seqs the file gives (or 1..n), not through the live
post service: there is nothing to publish, and keeping seqs is what makes
export -> import -> export give the same CSV.
"""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from jamhost.jams.hashtags import hashtag_clean, hashtag_key
from jamhost.jams.models import Jam, JamStatus, Membership, Question, Role
from jamhost.posts.models import AuthorRole, Kind, Post, PostStatus
from jamhost.transcripts.import_parse import (
    ImportRefused,
    ImportRow,
    Problem,
    Progress,
    hashtag_guess,
    question_text,
    questions_assign,
    rows_from_csv,
    rows_from_x_json,
)
from jamhost.transcripts.models import ImportJob, ImportStatus
from jamhost.transcripts.services import jam_archive

log = logging.getLogger(__name__)
FORMATS = ("csv", "x")
MAX_DURATION_MINUTES = 24 * 60


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


def format_detect(*, filename: str, payload: bytes, chosen: str = "auto") -> str:
    if chosen in FORMATS:
        return chosen
    if filename.lower().endswith(".json") or payload.lstrip(b"\xef\xbb\xbf \r\n\t")[:1] in (
        b"{",
        b"[",
    ):
        return "x"
    return "csv"


def rows_read(
    *, payload: bytes, file_format: str, options: ImportOptions, progress: Progress | None = None
) -> list[ImportRow]:
    """Parse and check the whole file; raise ImportRefused listing every bad row."""
    if file_format == "x":
        rows = rows_from_x_json(
            payload,
            host_handle=options.host_handle,
            panelists=options.panelists,
            progress=progress,
        )
    else:
        rows = rows_from_csv(payload, encoding=options.encoding, progress=progress)
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


def _unique_slug(title: str) -> str:
    base = slugify(title)[:60] or "imported-jam"
    slug = base
    while Jam.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(2)}"
    return slug


def transcript_import(*, owner: Any, rows: list[ImportRow], options: ImportOptions) -> Jam:
    """Create an archived jam, hosted by `owner`, from checked rows. One transaction:
    on any error nothing is left behind. Raises ValidationError for a bad title or
    hashtag."""
    if not rows:
        raise ValidationError("There is nothing to import.")
    tag_raw = options.hashtag or hashtag_guess(rows)
    if not tag_raw:
        raise ValidationError(
            "No hashtag found in the posts. Give the jam's hashtag (such as #PodcastChat)."
        )
    tag = hashtag_clean(tag_raw)
    times = sorted(r.time for r in rows)
    first, last = times[0], times[-1]
    duration = max(5, min(MAX_DURATION_MINUTES, math.ceil((last - first).total_seconds() / 60)))
    title = options.title.strip()[:200] or f"#{tag} on {first:%Y-%m-%d}"
    with transaction.atomic():
        jam = Jam(
            title=title,
            slug=_unique_slug(title),
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
        jam.full_clean()
        jam.save()
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
        posts = []
        for index, row in enumerate(rows, start=1):
            seq = row.seq or index
            metrics = dict(row.metrics)
            if row.link:
                metrics["link"] = row.link
            posts.append(
                Post(
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
            )
        Post.objects.bulk_create(posts, batch_size=1000)
        by_seq = {post.seq: post for post in posts}
        replies = []
        for post, row in zip(posts, rows, strict=True):
            if row.reply_to is not None:
                post.reply_to = by_seq[row.reply_to]
                replies.append(post)
        Post.objects.bulk_update(replies, ["reply_to"], batch_size=1000)
        last_seq = max(p.seq for p in posts)
        Jam.objects.filter(pk=jam.pk).update(last_seq=last_seq, rev=last_seq)
        current = max(questions.values(), key=lambda q: q.number, default=None)
        if current is not None:
            Jam.objects.filter(pk=jam.pk).update(current_question=current)
        jam_archive(jam_id=jam.pk)
    jam.refresh_from_db()
    return jam


def import_job_create(
    *, owner: Any, filename: str, payload: bytes, options: ImportOptions
) -> ImportJob:
    """Store an upload to import in the background; the import task is enqueued after
    commit. Raises ValidationError for an empty or oversized file."""
    limit = settings.IMPORT_MAX_BYTES
    if not payload:
        raise ValidationError({"file": "The file is empty."})
    if len(payload) > limit:
        raise ValidationError(
            {
                "file": f"The file is {len(payload) / 1e6:.1f} MB; the limit is "
                f"{limit / 1e6:.0f} MB. Split it into one file per jam."
            }
        )
    file_format = format_detect(filename=filename, payload=payload, chosen=options.file_format)
    with transaction.atomic():
        job = ImportJob.objects.create(
            owner=owner,
            filename=filename[:200],
            file_format=file_format,
            payload=payload,
            options=options.as_dict(),
        )
        from jamhost.transcripts.tasks import import_transcript

        transaction.on_commit(lambda: import_transcript.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a stored import: check every row (showing progress), then write the jam in
    one transaction. Idempotent: a finished job is left as it is."""
    job = ImportJob.objects.select_related("owner").get(pk=job_id)
    if job.is_finished:
        return job
    options = ImportOptions.from_dict(job.options)

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.CHECKING, rows_done=done, rows_total=total
        )

    try:
        rows = rows_read(
            payload=bytes(job.payload),
            file_format=job.file_format,
            options=options,
            progress=progress,
        )
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.WRITING, rows_done=len(rows), rows_total=len(rows)
        )
        jam = transcript_import(owner=job.owner, rows=rows, options=options)
    except ImportRefused as exc:
        _job_finish(job, status=ImportStatus.FAILED, errors=[str(p) for p in exc.problems])
        return job
    except ValidationError as exc:
        _job_finish(job, status=ImportStatus.FAILED, errors=exc.messages)
        return job
    _job_finish(job, status=ImportStatus.DONE, errors=[], jam=jam)
    return job


def _job_finish(job: ImportJob, *, status: str, errors: list[str], jam: Jam | None = None) -> None:
    job.status = status
    job.errors = errors
    job.jam = jam
    job.finished_at = timezone.now()
    job.payload = b""  # the upload is not kept once it has been imported or refused
    job.save(update_fields=["status", "errors", "jam", "finished_at", "payload"])
