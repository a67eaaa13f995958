"""Ingest against an X-compatible server that behaves as X does: a 7-day search window
that a weekly chat's old posts sit in, posts carrying several jams' hashtags, escaped
text, edits, leases of polls that died, and the rate limits of each answer."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jamhost.jams import lifecycle
from jamhost.networks.ingest import ingest_poll
from jamhost.networks.models import IngestCursor
from jamhost.posts.models import Post, Source
from jamhost.transcripts.services import jam_archive
from tests.factories import live_jam
from tests.networks.conftest import APP_BEARER
from tests.xstate import on_x

pytestmark = pytest.mark.django_db
SEARCH = "/2/tweets/search/recent"


def x_posts(jam: Any) -> list[Post]:
    return list(Post.objects.filter(jam=jam, source=Source.X).order_by("seq"))


def test_a_new_jam_starts_clean_last_weeks_posts_stay_out(x_server: Any, settings: Any) -> None:
    """A weekly chat reuses its hashtag: last week's posts are within X's 7-day search
    window, and must not land in this week's jam."""
    settings.X_INGEST_MARGIN_MINUTES = 15
    jam = live_jam(hashtag="WeeklyChat")
    fan = x_server.user_add("regular")
    last_week = timezone.now() - timedelta(days=6, hours=23)
    for n in range(5):
        x_server.tweet_add(fan, f"A{n}: last week's answer #WeeklyChat", created_at=last_week)
    x_server.tweet_add(
        fan, "before this jam's window #WeeklyChat", created_at=jam.starts_at - timedelta(hours=1)
    )
    this_week = x_server.tweet_add(fan, "A1: this week's answer #WeeklyChat")

    result = ingest_poll(jam_id=jam.pk)

    assert result.error == ""
    assert [p.external_id for p in x_posts(jam)] == [this_week]
    (first,) = x_server.requests_to(SEARCH)
    window_start = jam.starts_at - timedelta(minutes=15)
    assert first[2]["start_time"] == [window_start.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert "since_id" not in first[2]

    # Later searches ask for what is newer than the newest post seen, no start_time.
    newer = x_server.tweet_add(fan, "A1: later #WeeklyChat")
    ingest_poll(jam_id=jam.pk, now=timezone.now() + timedelta(minutes=1))
    second = x_server.requests_to(SEARCH)[-1][2]
    assert second["since_id"] == [this_week] and "start_time" not in second
    assert [p.external_id for p in x_posts(jam)] == [this_week, newer]


def test_the_first_search_pages_through_the_window_with_the_same_start(x_server: Any) -> None:
    jam = live_jam()
    fan = x_server.user_add("busy")
    ids = [x_server.tweet_add(fan, f"post {n} {jam.tag}") for n in range(150)]
    ingest_poll(jam_id=jam.pk)
    first, second = x_server.requests_to(SEARCH)
    assert first[2]["start_time"] == second[2]["start_time"]
    assert "next_token" in second[2]
    assert sorted(p.external_id for p in x_posts(jam)) == sorted(ids)


def test_one_x_post_with_two_jams_hashtags_is_in_both_jams_and_transcripts(
    x_server: Any,
) -> None:
    design = live_jam(hashtag="DesignChat")
    remote = live_jam(hashtag="RemoteChat")
    fan = x_server.user_add("both")
    both = x_server.tweet_add(fan, "A1: async reviews help #DesignChat #RemoteChat")
    only_design = x_server.tweet_add(fan, "A1: only here #designchat")

    assert ingest_poll(jam_id=design.pk).stored == 2
    assert ingest_poll(jam_id=remote.pk).stored == 1
    # Polled again, neither stores anything twice.
    later = timezone.now() + timedelta(minutes=1)
    assert ingest_poll(jam_id=design.pk, now=later).stored == 0
    assert ingest_poll(jam_id=remote.pk, now=later).stored == 0

    assert [p.external_id for p in x_posts(design)] == [both, only_design]
    assert [p.external_id for p in x_posts(remote)] == [both]
    for jam in (design, remote):
        lifecycle.jam_end(jam=jam)
        snapshot = json.loads(jam_archive(jam_id=jam.pk).content)
        texts = [p["text"] for p in snapshot["posts"]]
        assert "A1: async reviews help #DesignChat #RemoteChat" in texts


def test_escaped_text_is_unescaped_once(x_server: Any) -> None:
    jam = live_jam()
    fan = x_server.user_add("typist")
    typed = f"Q&A <3 -> &amp; stays &amp; &copy; {jam.tag}"
    x_server.tweet_add(fan, typed)
    ingest_poll(jam_id=jam.pk)
    (post,) = x_posts(jam)
    assert post.text == typed == post.body


def test_an_edit_updates_the_post_in_place(x_server: Any) -> None:
    jam = live_jam(questions=2, released=2)
    fan = x_server.user_add("editor")
    original = x_server.tweet_add(fan, f"A1: frist try {jam.tag}")
    ingest_poll(jam_id=jam.pk)
    (before,) = x_posts(jam)

    edited = x_server.tweet_edit(original, f"A2: first try, & fixed {jam.tag}")
    result = ingest_poll(jam_id=jam.pk, now=timezone.now() + timedelta(minutes=1))

    assert (result.stored, result.edited) == (0, 1)
    (after,) = x_posts(jam)
    assert after.pk == before.pk and after.seq == before.seq
    assert after.rev > before.rev
    assert after.text == f"A2: first try, & fixed {jam.tag}"
    assert on_x(after).x_id == edited == after.external_id
    assert after.edited_at is not None
    assert after.question is not None and after.question.number == 2

    # The older version seen again (a late page, the stream) changes nothing.
    from jamhost.networks.tweets import PollResult, page_context, tweet_upsert

    old = dict(x_server.tweets[int(original)])
    again = PollResult()
    tweet_upsert(jam=jam, tweet=old, ctx=page_context(jam, [old], {}), result=again)
    assert (again.stored, again.edited, again.duplicates) == (0, 0, 1)
    assert x_posts(jam)[0].text == after.text


def test_a_poll_that_died_leaves_a_lease_that_runs_out_within_a_minute(
    x_server: Any, settings: Any, caplog: Any
) -> None:
    """The cursor row a killed worker leaves: leased by a poll that never finished. The
    next poll waits for the lease (never 5 silent minutes), then takes over and logs it.
    (tests/faults/test_x_ingest_worker_killed.py kills a real worker mid-poll.)"""
    assert settings.X_INGEST_LEASE_SECONDS <= 120
    jam = live_jam()
    x_server.tweet_add(x_server.user_add("a"), f"hello {jam.tag}")
    now = timezone.now()
    IngestCursor.objects.create(
        jam=jam, lease_until=now + timedelta(seconds=settings.X_INGEST_LEASE_SECONDS)
    )
    assert ingest_poll(jam_id=jam.pk, now=now + timedelta(seconds=30)).error == (
        "another poll is running"
    )
    with caplog.at_level(logging.WARNING, logger="jamhost.networks.leases"):
        result = ingest_poll(jam_id=jam.pk, now=now + timedelta(seconds=121))
    assert result.error == "" and result.stored == 1
    assert "taking over the lease of a poll that stopped" in caplog.text
    assert IngestCursor.objects.get(jam=jam).lease_until is None


def test_each_answers_rate_limit_is_recorded_and_shown_to_the_host(
    x_server: Any, client: Any
) -> None:
    jam = live_jam()
    x_server.rate_limits["search_recent"] = 180
    ingest_poll(jam_id=jam.pk)
    cursor = IngestCursor.objects.get(jam=jam)
    assert cursor.rate_remaining == 179
    window_start, _ = x_server.windows[("search_recent", APP_BEARER)]
    assert cursor.rate_reset_at is not None
    assert abs(cursor.rate_reset_at.timestamp() - (window_start + 900)) < 2

    x_server.fault_next(SEARCH, "429", reset_in=600)
    ingest_poll(jam_id=jam.pk, now=timezone.now() + timedelta(minutes=1))
    cursor.refresh_from_db()
    assert cursor.rate_remaining == 0

    client.force_login(jam.host)
    page = client.get(jam.get_absolute_url()).content.decode()
    assert "X rate limit" in page and "0 searches left" in page
    assert f"{cursor.rate_reset_at:%H:%M}" in page
