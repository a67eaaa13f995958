from __future__ import annotations

from django.conf import settings
from django.db import models


class Transcript(models.Model):
    """One immutable snapshot of a jam's visible posts.

    `content` holds the canonical JSON text itself (sorted keys, no spaces, UTF-8), not a
    JSONField: PostgreSQL's jsonb reorders and normalises what it stores, so the bytes that
    were hashed could not be read back. A rebuild adds a version; old versions are kept.
    """

    jam = models.ForeignKey("jams.Jam", on_delete=models.CASCADE, related_name="transcripts")
    version = models.PositiveIntegerField()
    schema_version = models.PositiveIntegerField(default=1)
    content = models.TextField()
    content_hash = models.CharField(max_length=64, help_text="sha256 of content (UTF-8).")
    post_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["jam", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["jam", "version"], name="transcript_version_unique")
        ]

    def __str__(self) -> str:
        return f"transcript v{self.version} of jam {self.jam_id}"


class SearchDocument(models.Model):
    """The searchable text of a past jam's latest transcript (kept apart from the
    snapshot so that search never has to parse transcripts)."""

    jam = models.OneToOneField("jams.Jam", on_delete=models.CASCADE, related_name="search_document")
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"search text of jam {self.jam_id}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    CHECKING = "checking", "Checking rows"
    WRITING = "writing", "Writing the jam"
    DONE = "done", "Imported"
    FAILED = "failed", "Refused"


class ImportJob(models.Model):
    """An upload being imported; the upload page polls it for progress. The file itself
    is stored in ImportChunk rows (so any worker that shares the database can read it,
    a piece at a time) and deleted once the job has finished, either way."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    file_format = models.CharField(max_length=8)
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes uploaded.")
    options = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    bytes_done = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Runs started: a run cut off by a lost worker is retried once."
    )
    errors = models.JSONField(default=list)
    jam = models.ForeignKey(
        "jams.Jam", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "updated_at"], name="importjob_status_updated")]

    def __str__(self) -> str:
        return f"import of {self.filename} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def percent(self) -> int:
        """Checking goes by the bytes read, writing by the posts written."""
        if self.status == ImportStatus.WRITING and self.rows_total:
            return min(100, round(100 * self.rows_done / self.rows_total))
        if not self.size:
            return 0
        return min(100, round(100 * self.bytes_done / self.size))


class ImportChunk(models.Model):
    """One piece of an upload, in order (`index`), at most CHUNK_BYTES each."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="importchunk_job_index_unique")
        ]

    def __str__(self) -> str:
        return f"piece {self.index} of import {self.job_id}"


class TranscriptPart(models.Model):
    """A part of a transcript version as the replay shows it (a section's part, "q3/2", or
    a page of the player, "play/5"), rendered once after the version is stored, so that no
    web process renders thousands of post fragments for a reader and each part is one
    indexed read. `fingerprint` names the templates and layout that made it; other
    templates, other parts."""

    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    name = models.CharField(max_length=32)
    html = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["transcript", "fingerprint", "name"], name="transcript_part_unique"
            )
        ]

    def __str__(self) -> str:
        return f"part {self.name} of transcript {self.transcript_id}"
