from __future__ import annotations

import json
import threading

import pytest

from jamhost.networks.stream import TAG_PREFIX, stream_follow, stream_line_store, stream_rules_sync
from jamhost.networks.usage import jam_cost
from jamhost.posts.models import Post, Source
from tests.factories import live_jam

pytestmark = pytest.mark.django_db


def test_rules_follow_the_jams_in_their_window(x_server, settings):  # type: ignore[no-untyped-def]
    settings.X_INGEST = "stream"
    first, second = live_jam(), live_jam()
    x_server.rules["1"] = {"id": "1", "value": "coffee", "tag": "someone else's"}
    x_server.rules["2"] = {"id": "2", "value": "#Old -is:retweet", "tag": f"{TAG_PREFIX}999999"}

    stream_rules_sync()
    stream_rules_sync()  # idempotent: nothing added twice

    rules = {r.get("tag"): r["value"] for r in x_server.rules.values()}
    assert rules == {
        "someone else's": "coffee",
        f"{TAG_PREFIX}{first.pk}": f"{first.tag} -is:retweet",
        f"{TAG_PREFIX}{second.pk}": f"{second.tag} -is:retweet",
    }


def test_stream_feeds_the_same_upsert_path(x_server, settings):  # type: ignore[no-untyped-def]
    settings.X_INGEST = "stream"
    jam, other = live_jam(), live_jam()
    stream_rules_sync()
    fan = x_server.user_add("fan", "A Fan")

    def tweet_later() -> None:
        x_server.tweet_add(fan, "no hashtag at all")
        x_server.tweet_add(fan, f"A1: streamed 🌊 {jam.tag}")
        x_server.tweet_add(fan, f"other jam {other.tag}")

    timer = threading.Timer(0.5, tweet_later)
    timer.start()
    stream_follow(threaded=False, max_items=2)
    timer.join()

    (post,) = Post.objects.filter(jam=jam, source=Source.X)
    assert post.text == f"A1: streamed 🌊 {jam.tag}"
    assert post.author_handle == "fan" and post.author_name == "A Fan"
    assert post.question.number == 1
    assert Post.objects.filter(jam=other, source=Source.X).count() == 1
    assert jam_cost(jam_id=jam.pk).reads == 1

    # The same tweet arriving again (search, or a stream reconnect) stays one post.
    line = json.dumps(
        {
            "data": x_server.tweets[int(post.external_id)],
            "matching_rules": [{"id": "1", "tag": f"{TAG_PREFIX}{jam.pk}"}],
        }
    )
    assert stream_line_store(raw=line).duplicates == 1


@pytest.mark.parametrize(
    "line",
    [b"not json", b"[]", b'{"data": {"id": "1", "text": "x"}}', b'{"matching_rules": [{}]}'],
)
def test_unreadable_stream_lines_are_skipped(line):  # type: ignore[no-untyped-def]
    live_jam()
    result = stream_line_store(raw=line)
    assert result.stored == 0
    assert not Post.objects.filter(source=Source.X).exists()
