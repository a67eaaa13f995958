"""Writes for transcripts: archiving a jam and rebuilding a snapshot that went missing.

Archiving is idempotent: the snapshot is a pure function of the database (see
snapshot.py), so running it twice, or again after a worker died half-way, stores nothing
new and returns the same version with the same hash.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jamhost.jams.counters import jam_next_rev
from jamhost.jams.lifecycle import TRANSITIONS
from jamhost.jams.models import Jam, JamStatus
from jamhost.live.publish import jam_changed_on_commit
from jamhost.transcripts.layout import layout_cached
from jamhost.transcripts.memo import Parsed, parsed_get, parsed_put
from jamhost.transcripts.models import SearchDocument, Transcript, TranscriptPart
from jamhost.transcripts.parts import rendering_all, templates_fingerprint
from jamhost.transcripts.snapshot import (
    SCHEMA_VERSION,
    Snapshot,
    content_hash,
    search_text,
    snapshot_build,
    snapshot_encode,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedTranscript:
    transcript: Transcript
    parsed: Parsed

    @property
    def snapshot(self) -> Snapshot:
        return self.parsed.snapshot

    @property
    def content(self) -> str:
        """The stored canonical JSON (read from the database when first asked for)."""
        return self.transcript.content


def jam_check_archivable(*, jam: Jam) -> None:
    """Raise ValidationError, saying why, unless the jam has ended (or is archived)."""
    if jam.status in (JamStatus.ENDED, JamStatus.ARCHIVED):
        return
    reason = {
        JamStatus.DRAFT: "it is still a draft",
        JamStatus.SCHEDULED: f"it has not started (it starts {jam.starts_at:%Y-%m-%d %H:%M} UTC)",
        JamStatus.LIVE: "it is still live; end it first",
    }.get(JamStatus(jam.status), f"it is {jam.status}")
    raise ValidationError(
        f"“{jam.title}” cannot be archived yet: {reason}. A jam is archived once it has ended.",
        code="not_ended",
    )


def _store(jam: Jam) -> tuple[Transcript, Snapshot, bool]:
    """Store the jam's snapshot unless the latest version already holds exactly it.
    The caller holds the jam's row lock, so versions are numbered without races."""
    snapshot = snapshot_build(jam)
    content = snapshot_encode(snapshot)
    digest = content_hash(content)
    latest = Transcript.objects.filter(jam=jam).order_by("-version").first()
    if latest is not None and latest.content_hash == digest and _intact(latest):
        return latest, snapshot, False
    transcript = Transcript.objects.create(
        jam=jam,
        version=(latest.version + 1) if latest else 1,
        schema_version=SCHEMA_VERSION,
        content=content,
        content_hash=digest,
        post_count=len(snapshot["posts"]),
    )
    return transcript, snapshot, True


def _intact(transcript: Transcript) -> bool:
    return content_hash(transcript.content) == transcript.content_hash


def jam_archive(*, jam_id: int, now: datetime | None = None) -> Transcript:
    """Snapshot an ended jam and mark it archived; returns the current transcript.

    Idempotent: an archived jam whose posts have not changed gets its existing transcript
    back (same version, same hash); if visible posts changed since, a new version
    supersedes the old one, which is kept. Raises ValidationError for a jam that has not
    ended, and Jam.DoesNotExist for an unknown id.
    """
    now = now or timezone.now()
    with transaction.atomic():
        jam = Jam.objects.select_for_update(of=("self",)).select_related("host").get(pk=jam_id)
        jam_check_archivable(jam=jam)
        transcript, snapshot, created = _store(jam)
        if created:
            transaction.on_commit(lambda: _render_enqueue(transcript.pk))
        if jam.transcript_outdated:  # this snapshot includes the change that marked it
            jam.transcript_outdated = False
            jam.save(update_fields=["transcript_outdated"])
        if jam.status != JamStatus.ARCHIVED:
            if JamStatus.ARCHIVED not in TRANSITIONS[jam.status]:  # the jams app's rules
                raise ValidationError(f"A {jam.status} jam cannot be archived.")
            _, rev = jam_next_rev(jam_id=jam.pk, header_changed=True)
            jam.rev = jam.header_rev = rev
            jam.status = JamStatus.ARCHIVED
            jam.archived_at = now
            jam.archived_rev = rev
            jam.save(update_fields=["status", "archived_at", "archived_rev", "updated_at"])
            jam_changed_on_commit(jam)
        elif jam.archived_rev != jam.rev:  # the snapshot holds every change up to this rev
            jam.archived_rev = jam.rev
            jam.save(update_fields=["archived_rev"])
        if created or not SearchDocument.objects.filter(jam=jam).exists():
            SearchDocument.objects.update_or_create(
                jam=jam, defaults={"body": search_text(snapshot)}
            )
    return transcript


def _render_enqueue(transcript_id: int) -> None:
    from jamhost.transcripts.tasks import render_transcript

    render_transcript.delay(transcript_id)


def transcript_render(*, transcript_id: int) -> None:
    """Store the replay's parts and player pages for this transcript version, unless they
    are stored for the current templates already. Idempotent."""
    fingerprint = templates_fingerprint()
    if TranscriptPart.objects.filter(transcript_id=transcript_id, fingerprint=fingerprint).exists():
        return
    transcript = Transcript.objects.filter(pk=transcript_id).first()
    if transcript is None or not _intact(transcript):
        return  # gone, or corrupt: readers rebuild it, and the rebuild is rendered then
    parsed = Parsed(json.loads(transcript.content))
    parts = rendering_all(parsed.snapshot, layout_cached(parsed))
    with transaction.atomic():
        # Parts of superseded versions are never served again (410), nor parts made by
        # other templates: they go as this version's arrive.
        TranscriptPart.objects.filter(transcript__jam_id=transcript.jam_id).exclude(
            transcript_id=transcript_id, fingerprint=fingerprint
        ).filter(transcript__version__lte=transcript.version).delete()
        TranscriptPart.objects.bulk_create(
            [
                TranscriptPart(
                    transcript_id=transcript_id, fingerprint=fingerprint, name=name, html=html
                )
                for name, html in parts.items()
            ],
            batch_size=200,
            ignore_conflicts=True,
        )


def transcript_verified(*, jam: Jam) -> LoadedTranscript:
    """The jam's latest transcript, checked against its hash and parsed.

    A jam that has ended but is not archived yet is archived now; a missing or corrupt
    snapshot (hash mismatch, unreadable JSON) is rebuilt from the database as a new
    version. What is returned has always passed the check. Raises ValidationError for a
    jam that has not ended.
    """
    jam_check_archivable(jam=jam)
    latest = Transcript.objects.filter(jam=jam).order_by("-version").defer("content").first()
    if latest is not None:
        key = (latest.pk, latest.content_hash)
        cached = parsed_get(key)
        if cached is not None:
            return LoadedTranscript(latest, cached)
        latest.content = Transcript.objects.values_list("content", flat=True).get(pk=latest.pk)
        if _intact(latest):
            try:
                return LoadedTranscript(latest, parsed_put(key, json.loads(latest.content)))
            except ValueError:
                pass
        log.warning("transcript v%s of jam %s is corrupt; rebuilding", latest.version, jam.pk)
    rebuilt = jam_archive(jam_id=jam.pk)
    key = (rebuilt.pk, rebuilt.content_hash)
    return LoadedTranscript(rebuilt, parsed_put(key, json.loads(rebuilt.content)))
