from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from jamhost.jams.models import Jam, JamStatus
from jamhost.posts.models import Post, PostStatus
from jamhost.transcripts.exports import FORMATS, export_render
from jamhost.transcripts.models import SearchDocument, Transcript
from jamhost.transcripts.services import jam_archive, transcript_verified
from jamhost.transcripts.snapshot import content_hash, snapshot_build, snapshot_encode
from jamhost.transcripts.tasks import archive_jam, archive_sweep
from tests.factories import live_jam
from tests.transcripts.conftest import build_jam
from tests.transcripts.pages import expand, read


def all_exports(transcript: Transcript) -> dict[str, str]:
    snapshot = json.loads(transcript.content)
    return {fmt: export_render(snapshot, fmt=fmt, content=transcript.content) for fmt in FORMATS}


@contextmanager
def failing_archive_update() -> Any:
    """A real database fault: any UPDATE that marks a jam archived fails, after the
    transcript row has been inserted in the same transaction."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER fail_archive BEFORE UPDATE OF status ON jams_jam "
                "WHEN NEW.status = 'archived' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION fail_archive() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER fail_archive BEFORE UPDATE ON jams_jam FOR EACH ROW "
                "WHEN (NEW.status = 'archived') EXECUTE FUNCTION fail_archive()"
            )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("DROP TRIGGER fail_archive")
            else:
                cursor.execute("DROP TRIGGER fail_archive ON jams_jam")
                cursor.execute("DROP FUNCTION fail_archive()")


def test_archive_twice_gives_the_same_version_hash_and_exports(ended_jam: Jam) -> None:
    first = jam_archive(jam_id=ended_jam.pk)
    first_exports = all_exports(first)
    second = jam_archive(jam_id=ended_jam.pk)

    assert second.pk == first.pk and second.version == 1
    assert Transcript.objects.filter(jam=ended_jam).count() == 1
    assert second.content_hash == first.content_hash == content_hash(first.content)
    assert all_exports(second) == first_exports

    # A rebuild from scratch (the stored versions gone) gives byte-identical content.
    Transcript.objects.filter(jam=ended_jam).delete()
    rebuilt = transcript_verified(jam=Jam.objects.get(pk=ended_jam.pk)).transcript
    assert rebuilt.content == first.content
    assert rebuilt.content_hash == first.content_hash
    assert all_exports(rebuilt) == first_exports


def test_archive_marks_the_jam_archived_with_a_header_rev(ended_jam: Jam) -> None:
    rev_before = ended_jam.rev
    transcript = jam_archive(jam_id=ended_jam.pk)
    jam = Jam.objects.get(pk=ended_jam.pk)
    assert jam.status == JamStatus.ARCHIVED
    assert jam.archived_at is not None
    assert jam.header_rev == jam.rev == rev_before + 1
    assert transcript.post_count == 8
    assert "Deep work" in SearchDocument.objects.get(jam=jam).body
    # Archiving again is not a change screens must see.
    jam_archive(jam_id=jam.pk)
    assert Jam.objects.get(pk=jam.pk).rev == jam.rev


def test_snapshot_is_built_with_a_fixed_number_of_queries(
    ended_jam: Jam, django_assert_num_queries: Any
) -> None:
    jam = Jam.objects.select_related("host").get(pk=ended_jam.pk)
    with django_assert_num_queries(5):  # the fifth: the jam's polls (none here)
        small = snapshot_build(jam)
    Post.objects.bulk_create(
        Post(
            jam=ended_jam,
            seq=100 + n,
            rev=100 + n,
            author_key=f"import:p{n}",
            author_handle=f"p{n}",
            body="x",
            text=f"more {n}",
            created_at=timezone.now(),
        )
        for n in range(40)
    )
    jam = Jam.objects.select_related("host").get(pk=ended_jam.pk)
    with django_assert_num_queries(5):
        large = snapshot_build(jam)
    assert len(large["posts"]) == len(small["posts"]) + 40


@pytest.mark.parametrize("status", ["live", "scheduled", "draft"])
def test_archiving_a_jam_that_has_not_ended_is_refused(db: Any, status: str) -> None:
    jam = live_jam()
    Jam.objects.filter(pk=jam.pk).update(status=status)
    with pytest.raises(ValidationError) as caught:
        jam_archive(jam_id=jam.pk)
    message = " ".join(caught.value.messages)
    assert "cannot be archived yet" in message and "once it has ended" in message
    # The task refuses the same way and leaves the jam as it was.
    archive_jam.delay(jam.pk)
    assert Jam.objects.get(pk=jam.pk).status == status
    assert not Transcript.objects.filter(jam=jam).exists()


def test_a_run_that_fails_midway_leaves_nothing_and_the_sweep_completes_it(
    ended_jam: Jam, settings: Any
) -> None:
    expected = content_hash(snapshot_encode(snapshot_build(ended_jam)))
    with failing_archive_update():
        with pytest.raises(Exception, match="disk full"):
            jam_archive(jam_id=ended_jam.pk)
        archive_jam.delay(ended_jam.pk)  # the task fails the same way (eager in tests)
    assert Jam.objects.get(pk=ended_jam.pk).status == JamStatus.ENDED
    assert not Transcript.objects.filter(jam=ended_jam).exists()
    assert not SearchDocument.objects.filter(jam=ended_jam).exists()

    settings.ARCHIVE_SWEEP_GRACE = 0
    archive_sweep.delay()
    jam = Jam.objects.get(pk=ended_jam.pk)
    assert jam.status == JamStatus.ARCHIVED
    transcript = Transcript.objects.get(jam=jam)
    assert transcript.version == 1 and transcript.content_hash == expected


def test_sweep_leaves_recent_and_live_jams_alone(ended_jam: Jam, settings: Any) -> None:
    settings.ARCHIVE_SWEEP_GRACE = 3 * 3600  # it ended an hour ago
    live = live_jam()
    archive_sweep.delay()
    assert Jam.objects.get(pk=ended_jam.pk).status == JamStatus.ENDED  # within the grace
    settings.ARCHIVE_SWEEP_GRACE = 0
    archive_sweep.delay()
    assert Jam.objects.get(pk=ended_jam.pk).status == JamStatus.ARCHIVED
    assert Jam.objects.get(pk=live.pk).status == JamStatus.LIVE


def test_jam_end_enqueues_the_archive_on_commit(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from jamhost.jams.lifecycle import jam_end

    jam = live_jam()
    with django_capture_on_commit_callbacks(execute=True):
        jam_end(jam=jam)
    assert Jam.objects.get(pk=jam.pk).status == JamStatus.ARCHIVED
    assert Transcript.objects.filter(jam=jam).count() == 1


def test_changed_posts_give_a_new_version_and_keep_the_old(ended_jam: Jam) -> None:
    first = jam_archive(jam_id=ended_jam.pk)
    post = Post.objects.get(jam=ended_jam, text__startswith="Emoji")
    Post.objects.filter(pk=post.pk).update(status=PostStatus.HIDDEN)
    second = jam_archive(jam_id=ended_jam.pk)
    assert second.version == 2 and second.content_hash != first.content_hash
    assert Transcript.objects.filter(jam=ended_jam).count() == 2
    assert "Emoji" not in second.content and "Emoji" in Transcript.objects.get(pk=first.pk).content


@pytest.mark.parametrize("damage", ["content", "hash", "not json", "missing"])
def test_a_missing_or_corrupt_snapshot_is_rebuilt_not_served(
    ended_jam: Jam, client: Any, damage: str
) -> None:
    good = jam_archive(jam_id=ended_jam.pk)
    stored = Transcript.objects.filter(pk=good.pk)
    if damage == "content":
        stored.update(content=good.content.replace("Deep work", "Shallow work"))
    elif damage == "hash":
        stored.update(content_hash="0" * 64)
    elif damage == "not json":
        broken = good.content[:-10]
        stored.update(content=broken, content_hash=content_hash(broken))
    else:
        stored.delete()

    response = client.get(f"/jams/{ended_jam.slug}/transcript.json")
    assert response.status_code == 200
    assert response.content.decode() == good.content
    latest = Transcript.objects.filter(jam=ended_jam).order_by("-version").first()
    assert latest is not None and latest.content_hash == good.content_hash
    assert latest.version == (1 if damage == "missing" else 2)
    html, _ = expand(client, read(client, f"/jams/{ended_jam.slug}/transcript/"))
    assert "Deep work" in html and "Shallow work" not in html
    # Once rebuilt, reads do not rebuild again.
    client.get(f"/jams/{ended_jam.slug}/transcript.csv")
    assert Transcript.objects.filter(jam=ended_jam).count() == (1 if damage == "missing" else 2)


def test_past_jam_ended_long_ago_is_in_the_awaiting_list(db: Any) -> None:
    from jamhost.transcripts.selectors import jams_awaiting_archive

    jam = build_jam(hashtag="OldJam")
    now = timezone.now()
    assert jams_awaiting_archive(ended_before=now) == [jam.pk]
    assert jams_awaiting_archive(ended_before=now - timedelta(days=1)) == []


def test_a_change_after_the_archive_is_archived_again_once_the_transcript_is_old_enough(
    ended_jam: Jam, settings: Any
) -> None:
    from django.db import transaction

    from jamhost.jams.counters import jam_next_rev

    first = jam_archive(jam_id=ended_jam.pk)
    settings.TRANSCRIPT_REFRESH_MINUTES = 10
    archive_sweep.delay()
    assert Transcript.objects.filter(jam=ended_jam).count() == 1  # nothing changed

    # A post of the archived jam changes (as a late ingest or a network's answer does).
    post = Post.objects.get(jam=ended_jam, text__startswith="Emoji")
    with transaction.atomic():
        _, rev = jam_next_rev(jam_id=ended_jam.pk)
        Post.objects.filter(pk=post.pk).update(text="Emoji, edited after the end", rev=rev)
    archive_sweep.delay()
    assert Transcript.objects.filter(jam=ended_jam).count() == 1  # the transcript is new

    Transcript.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    archive_sweep.delay()
    latest = Transcript.objects.filter(jam=ended_jam).order_by("-version").first()
    assert latest is not None and latest.version == 2
    assert "Emoji, edited after the end" in latest.content
    jam = Jam.objects.get(pk=ended_jam.pk)
    assert jam.archived_rev == jam.rev
    # Archived at its rev: the next sweep leaves it alone.
    Transcript.objects.filter(pk=latest.pk).update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    archive_sweep.delay()
    assert Transcript.objects.filter(jam=ended_jam).count() == 2
