"""networks 0005 / posts 0008: X's state of each post moves from the post to
networks.XPost and post.elsewhere["x"], and back when the migrations are reversed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("networks", "0004_bluesky_and_mastodon"), ("posts", "0007_network_origin")]
AFTER = [("networks", "0005_x_post_state"), ("posts", "0008_x_state_to_networks")]


def _migrate(targets: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_x_state_moves_to_networks_and_back() -> None:
    old = _migrate(BEFORE)
    User = old.get_model("auth", "User")
    Jam = old.get_model("jams", "Jam")
    Post = old.get_model("posts", "Post")
    host = User.objects.create(username="mover")
    jam = Jam.objects.create(
        title="Moving",
        slug="moving",
        hashtag="MoveJam",
        hashtag_key="movejam",
        host=host,
        starts_at=timezone.now(),
    )
    common = {"jam": jam, "author_handle": "mover", "body": "b", "created_at": timezone.now()}
    published = Post.objects.create(
        seq=1,
        rev=1,
        author_key="u:1",
        text="published",
        source="app",
        network_status="published",
        network_post_id="1790000000000000001",
        elsewhere={"bluesky": {"status": "published", "url": "https://bsky.app/x"}},
        **common,
    )
    failed = Post.objects.create(
        seq=2,
        rev=2,
        author_key="u:1",
        text="failed",
        source="app",
        network_status="failed",
        network_error="X refused it",
        network_attempts=3,
        **common,
    )
    ingested = Post.objects.create(
        seq=3,
        rev=3,
        author_key="x:9",
        text="from X",
        source="x",
        external_id="17900000002",
        network_status="published",
        network_post_id="17900000002",
        **common,
    )
    local = Post.objects.create(seq=4, rev=4, author_key="u:1", text="local", **common)

    new = _migrate(AFTER)
    XPost = new.get_model("networks", "XPost")
    Post = new.get_model("posts", "Post")
    states = {s.post_id: s for s in XPost.objects.all()}
    assert set(states) == {published.pk, failed.pk, ingested.pk}
    assert (states[published.pk].status, states[published.pk].x_id) == (
        "published",
        "1790000000000000001",
    )
    assert (states[failed.pk].status, states[failed.pk].error) == ("failed", "X refused it")
    assert states[failed.pk].attempts == 3
    assert states[ingested.pk].x_id == "17900000002"
    shown = {p.pk: p.elsewhere for p in Post.objects.all()}
    assert shown[published.pk] == {
        "bluesky": {"status": "published", "url": "https://bsky.app/x"},
        "x": {
            "status": "published",
            "url": "https://x.com/i/web/status/1790000000000000001",
            "error": "",
        },
    }
    assert shown[failed.pk]["x"] == {"status": "failed", "url": "", "error": "X refused it"}
    assert shown[ingested.pk] == {} and shown[local.pk] == {}

    back = _migrate(BEFORE)
    Post = back.get_model("posts", "Post")
    rows = {p.pk: p for p in Post.objects.all()}
    assert rows[published.pk].network_post_id == "1790000000000000001"
    assert rows[published.pk].elsewhere == {
        "bluesky": {"status": "published", "url": "https://bsky.app/x"}
    }
    assert (rows[failed.pk].network_status, rows[failed.pk].network_attempts) == ("failed", 3)
    assert rows[local.pk].network_status == "local"
    _migrate(_latest())  # the schema as the other tests expect it


def _latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
