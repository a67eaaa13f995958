from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from jamhost.jams.models import JamStatus, ModerationMode
from jamhost.networks.ingest import ingest_due, ingest_poll
from jamhost.networks.models import IngestCursor, XPost, XStatus
from jamhost.networks.sweep import networks_sweep
from jamhost.networks.tweets import PollResult, page_context, tweet_upsert
from jamhost.networks.usage import jam_cost
from jamhost.posts.models import Post, PostStatus, Source
from jamhost.posts.services import post_compose
from tests.factories import JamFactory, MembershipFactory, UserFactory, live_jam
from tests.networks.conftest import link_x
from tests.xstate import on_x

pytestmark = pytest.mark.django_db


def x_posts(jam):  # type: ignore[no-untyped-def]
    return list(Post.objects.filter(jam=jam, source=Source.X).order_by("seq"))


def test_hashtag_posts_are_ingested_with_authors_links_and_scripts(x_server):  # type: ignore[no-untyped-def]
    jam = live_jam()
    ada = x_server.user_add("ada", "Ada 🚀")
    kenji = x_server.user_add("kenji", "山田 健二")
    x_server.tweet_add(ada, f"Loving this {jam.tag} 🎉🎉 see https://example.org/a-long/path?x=1")
    x_server.tweet_add(kenji, f"日本語のテストです {jam.tag}", lang="ja")
    retweet_of = x_server.tweet_add(kenji, f"original {jam.tag}")
    x_server.tweet_add(ada, f"RT @kenji: original {jam.tag}", retweet_of=retweet_of)
    x_server.tweet_add(ada, "another tag #SomethingElse")

    result = ingest_poll(jam_id=jam.pk)

    assert result.error == "" and result.stored == 3
    posts = x_posts(jam)
    assert [p.author_handle for p in posts] == ["ada", "kenji", "kenji"]
    first = posts[0]
    assert first.author_name == "Ada 🚀"
    assert first.author_avatar_url.startswith("https://pbs.twimg.com/")
    assert first.links == ["https://example.org/a-long/path?x=1"]
    assert "https://example.org/a-long/path?x=1" in first.text  # shown expanded
    assert "t.co" not in first.text
    assert on_x(first).status == XStatus.PUBLISHED
    assert on_x(first).x_id == first.external_id
    assert posts[1].text == f"日本語のテストです {jam.tag}" and posts[1].lang == "ja"
    assert "repost_count" in first.metrics
    assert all(p.status == PostStatus.VISIBLE for p in posts)
    cursor = IngestCursor.objects.get(jam=jam)
    assert cursor.since_id == max(p.external_id for p in posts)
    assert jam_cost(jam_id=jam.pk).reads == 3

    # The next poll asks only for newer posts and stores nothing twice.
    again = ingest_poll(jam_id=jam.pk, now=timezone.now() + timedelta(minutes=1))
    assert again.stored == 0
    assert x_server.requests_to("/2/tweets/search/recent")[-1][2]["since_id"] == [cursor.since_id]


def test_answers_and_replies_are_mapped_to_questions(x_server, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    jam = live_jam(questions=4, released=3)
    host_account = link_x(x_server, jam.host)
    # Publish the questions from the host's account so replies can point at them.
    from jamhost.networks.publishing import post_publish, publication_enqueue

    for question_post in Post.objects.filter(jam=jam, kind="question"):
        question_post.elsewhere = {"x": {"status": XStatus.QUEUED}}
        Post.objects.filter(pk=question_post.pk).update(elsewhere=question_post.elsewhere)
        publication_enqueue(post=question_post)
        assert post_publish(post_id=question_post.pk) == "published"
    q2_tweet = on_x(Post.objects.get(jam=jam, kind="question", question__number=2)).x_id
    fan = x_server.user_add("fan")
    x_server.tweet_add(fan, f"A1: first answer {jam.tag}")
    x_server.tweet_add(fan, f"A2 second answer {jam.tag}")
    x_server.tweet_add(fan, f"a3- third answer {jam.tag}")
    x_server.tweet_add(fan, f"replying without a prefix {jam.tag}", reply_to=q2_tweet)
    x_server.tweet_add(fan, f"A4: not released yet {jam.tag}")
    x_server.tweet_add(fan, f"Also 3 things {jam.tag}")
    x_server.tweet_add(fan, f"@{host_account.username} A 1: to the host {jam.tag}")
    x_server.tweet_add(fan, f"A9: no Q9 in the run-sheet {jam.tag}")

    result = ingest_poll(jam_id=jam.pk)

    assert result.stored == 8
    by_text = {p.text.split(jam.tag)[0].strip(): p for p in x_posts(jam)}
    numbers = {text: (p.question.number if p.question else None) for text, p in by_text.items()}
    assert numbers == {
        "A1: first answer": 1,
        "A2 second answer": 2,
        "a3- third answer": 3,
        "replying without a prefix": 2,
        "A4: not released yet": 4,  # before its release, filed under Q4 all the same
        "Also 3 things": None,
        f"@{host_account.username} A 1: to the host": 1,
        "A9: no Q9 in the run-sheet": None,
    }
    assert on_x(by_text["replying without a prefix"].reply_to).x_id == q2_tweet
    # The host's own question tweets were found by search too, and are still one post each.
    assert Post.objects.filter(jam=jam, kind="question").count() == 3
    assert len(x_server.tweets_by(host_account.x_user_id)) == 3


def test_own_posts_found_by_search_stay_one_post(x_server, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    jam = live_jam()
    panelist = UserFactory()
    MembershipFactory(jam=jam, user=panelist)
    link_x(x_server, panelist)
    with django_capture_on_commit_callbacks(execute=True):
        post = post_compose(jam=jam, user=panelist, body="published from jamhost")
    post.refresh_from_db()
    assert on_x(post).status == XStatus.PUBLISHED
    count = Post.objects.filter(jam=jam).count()

    result = ingest_poll(jam_id=jam.pk)

    assert (result.stored, result.duplicates) == (0, 1)
    assert Post.objects.filter(jam=jam).count() == count
    assert not x_posts(jam)


def test_own_post_found_by_search_before_publish_reported_back(
    x_server, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    """The tweet went out but its answer was lost: search finds it first and records it
    on the jamhost post; the publisher then has nothing left to do."""
    jam = live_jam()
    panelist = UserFactory()
    MembershipFactory(jam=jam, user=panelist)
    account = link_x(x_server, panelist)
    x_server.fault_next("/2/tweets", "slow_after_create", delay=1.5)
    with django_capture_on_commit_callbacks(execute=True):
        post = post_compose(jam=jam, user=panelist, body="answer lost on the way back")
    post.refresh_from_db()
    assert on_x(post).status == XStatus.QUEUED

    ingest_poll(jam_id=jam.pk)

    post.refresh_from_db()
    tweet = x_server.tweets_by(account.x_user_id)[0]
    assert on_x(post).status == XStatus.PUBLISHED
    assert on_x(post).x_id == tweet["id"]
    assert not x_posts(jam)
    networks_sweep(now=timezone.now() + timedelta(minutes=10))
    assert len(x_server.requests_to("/2/tweets", "POST")) == 1


def test_since_id_moves_only_after_every_page_is_stored(x_server):  # type: ignore[no-untyped-def]
    jam = live_jam()
    authors = [x_server.user_add(f"p{n}") for n in range(5)]
    ids = [x_server.tweet_add(authors[n % 5], f"post {n} {jam.tag}") for n in range(250)]
    # Page 1 arrives; the poll dies on page 2 (X sends garbage).
    x_server.fault_next("/2/tweets/search/recent", "malformed", skip=1)

    first = ingest_poll(jam_id=jam.pk)

    assert first.pages == 1 and first.stored == 100
    assert "not JSON" in first.error
    cursor = IngestCursor.objects.get(jam=jam)
    assert cursor.since_id == ""  # not moved: older pages are still to come
    assert cursor.next_token and cursor.pending_newest_id == ids[-1]

    later = timezone.now() + timedelta(minutes=5)
    second = ingest_poll(jam_id=jam.pk, now=later)

    assert second.error == "" and second.stored == 150
    stored = sorted(int(p.external_id) for p in x_posts(jam))
    assert stored == sorted(int(i) for i in ids)  # every post once, none lost
    cursor.refresh_from_db()
    assert cursor.since_id == ids[-1] and cursor.next_token == ""
    seqs = list(Post.objects.filter(jam=jam).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_crash_mid_page_neither_loses_nor_duplicates(x_server):  # type: ignore[no-untyped-def]
    """A poll killed while storing a page left part of it stored and the cursor where it
    was: the next poll reads that page again and stores only what was missing."""
    jam = live_jam()
    author = x_server.user_add("writer")
    ids = [x_server.tweet_add(author, f"n{n} {jam.tag}") for n in range(40)]
    users = {author: x_server.users[author]}
    half = [x_server.tweets[int(i)] for i in ids[:17]]
    partial = PollResult()
    ctx = page_context(jam, half, users)
    for tweet in half:
        tweet_upsert(jam=jam, tweet=dict(tweet), ctx=ctx, result=partial)
    assert len(x_posts(jam)) == 17

    result = ingest_poll(jam_id=jam.pk)

    assert (result.stored, result.duplicates) == (23, 17)
    assert sorted(p.external_id for p in x_posts(jam)) == sorted(ids)


def test_429_pauses_polling_until_reset(x_server):  # type: ignore[no-untyped-def]
    jam = live_jam()
    x_server.tweet_add(x_server.user_add("a"), f"hello {jam.tag}")
    x_server.fault_next("/2/tweets/search/recent", "429", reset_in=300)
    now = timezone.now()

    result = ingest_poll(jam_id=jam.pk, now=now)

    assert result.paused_until is not None
    assert 290 < (result.paused_until - now).total_seconds() <= 301
    assert jam.pk not in ingest_due(now=now + timedelta(seconds=200))
    requests_before = len(x_server.requests_to("/2/tweets/search/recent"))
    assert ingest_poll(jam_id=jam.pk, now=now + timedelta(seconds=200)).stored == 0
    assert len(x_server.requests_to("/2/tweets/search/recent")) == requests_before
    after = result.paused_until + timedelta(seconds=1)
    assert jam.pk in ingest_due(now=after)
    assert ingest_poll(jam_id=jam.pk, now=after).stored == 1


def test_interval_follows_the_remaining_rate_budget(x_server):  # type: ignore[no-untyped-def]
    jam = live_jam()
    now = timezone.now()
    x_server.rate_limits["search_recent"] = 451  # plenty: poll at the sweep's pace
    ingest_poll(jam_id=jam.pk, now=now)
    cursor = IngestCursor.objects.get(jam=jam)
    assert (cursor.next_poll_at - now).total_seconds() == pytest.approx(2.0, abs=0.5)

    x_server.rate_limits["search_recent"] = 32  # 30 left for the next 15 minutes: every 30 s
    later = now + timedelta(seconds=3)
    ingest_poll(jam_id=jam.pk, now=later)
    cursor.refresh_from_db()
    assert 25 < (cursor.next_poll_at - later).total_seconds() <= 35


def test_ingest_of_2000_posts_in_one_jam(x_server):  # type: ignore[no-untyped-def]
    jam = live_jam()
    authors = [x_server.user_add(f"crowd{n}", f"Crowd {n}") for n in range(40)]
    texts = [
        f"A1: idea {n} {'🎯' if n % 3 == 0 else ''}{'中文' if n % 7 == 0 else ''} {jam.tag}"
        for n in range(2000)
    ]
    ids = [x_server.tweet_add(authors[n % 40], text) for n, text in enumerate(texts)]

    result = ingest_poll(jam_id=jam.pk)

    assert result.error == ""
    assert (result.stored, result.pages) == (2000, 20)
    posts = x_posts(jam)
    assert len(posts) == 2000
    assert sorted(p.external_id for p in posts) == sorted(ids)
    assert {p.question.number for p in posts} == {1}
    seqs = [p.seq for p in Post.objects.filter(jam=jam).order_by("seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    assert jam_cost(jam_id=jam.pk).reads == 2000
    assert IngestCursor.objects.get(jam=jam).since_id == ids[-1]


def test_pre_moderation_holds_ingested_posts_for_approval(x_server):  # type: ignore[no-untyped-def]
    jam = live_jam(moderation_mode=ModerationMode.PRE)
    panelist = UserFactory()
    MembershipFactory(jam=jam, user=panelist)
    panel_account = link_x(x_server, panelist)
    x_server.tweet_add(x_server.user_add("stranger"), f"hi all {jam.tag}")
    x_server.tweet_add(panel_account.x_user_id, f"A1: from my phone {jam.tag}")

    ingest_poll(jam_id=jam.pk)

    stranger, panel = x_posts(jam)
    assert stranger.status == PostStatus.PENDING
    # A panelist posting on X directly is recognised as the panelist.
    assert panel.status == PostStatus.VISIBLE
    assert panel.author == panelist and panel.author_role == "panelist"


def test_ingest_window_and_sweep(x_server, settings):  # type: ignore[no-untyped-def]
    settings.X_INGEST_MARGIN_MINUTES = 15
    now = timezone.now()
    live = live_jam()
    soon = JamFactory(status=JamStatus.SCHEDULED, starts_at=now + timedelta(minutes=10))
    JamFactory(status=JamStatus.SCHEDULED, starts_at=now + timedelta(hours=3))
    just_ended = JamFactory(status=JamStatus.ENDED, starts_at=now - timedelta(hours=1))
    just_ended.ended_at = now - timedelta(minutes=5)
    just_ended.save()
    long_ended = JamFactory(status=JamStatus.ENDED, starts_at=now - timedelta(days=1))
    long_ended.ended_at = now - timedelta(hours=20)
    long_ended.save()

    assert sorted(networks_sweep(now=now).polled) == sorted([live.pk, soon.pk, just_ended.pk])
    # Each jam's next poll waits for its interval.
    assert networks_sweep(now=now + timedelta(seconds=1)).polled == []

    settings.X_CLIENT_ID = ""
    assert networks_sweep(now=now + timedelta(minutes=5)).polled == []


def test_legacy_v2_field_names_are_read_too(x_server):  # type: ignore[no-untyped-def]
    """X's v2 docs say referenced_tweets and retweet_count; its 2026 spec says
    referenced_posts and repost_count. Either answer maps replies to questions."""
    x_server.validate = None  # the older names are not in the current spec
    jam = live_jam()
    question_post = Post.objects.get(jam=jam, kind="question")
    XPost.objects.create(
        post=question_post, jam=jam, status=XStatus.PUBLISHED, x_id="1700000000000000001"
    )
    x_server.legacy_names = True
    fan = x_server.user_add("fan")
    x_server.tweet_add(fan, f"old style reply {jam.tag}", reply_to="1700000000000000001")

    ingest_poll(jam_id=jam.pk)

    (post,) = x_posts(jam)
    assert post.question == question_post.question
    assert "retweet_count" in post.metrics


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"data": "not a list", "meta": {"result_count": 1}}, "`data` is not a list"),
        ({"data": [{"text": "no id #X"}], "meta": {}}, "no valid id or text"),
        ({"data": [{"id": "12", "text": None}], "meta": {}}, "no valid id or text"),
        ({"data": ["just a string"], "meta": {}}, "not an object"),
        ({"meta": {"result_count": 0}}, None),
        ({"includes": "nonsense", "meta": {}}, None),
        (
            {
                "errors": [
                    {
                        "type": "https://api.x.com/2/problems/resource-not-found",
                        "title": "Not Found Error",
                        "detail": "Could not find tweet with id: [55].",
                        "resource_type": "tweet",
                    }
                ]
            },
            None,
        ),
    ],
)
def test_odd_search_answers_never_stop_the_poller(x_server, caplog, body, why):  # type: ignore[no-untyped-def]
    jam = live_jam()
    x_server.fault_next("/2/tweets/search/recent", "raw", status=200, body=body)
    with caplog.at_level(logging.INFO, logger="jamhost.networks.ingest"):
        result = ingest_poll(jam_id=jam.pk)
    assert result.stored == 0
    if why:
        assert any(why in reason for reason in result.skipped)
        assert why in caplog.text
    # Later polls carry on.
    x_server.tweet_add(x_server.user_add("ok"), f"still works {jam.tag}")
    assert ingest_poll(jam_id=jam.pk, now=timezone.now() + timedelta(minutes=10)).stored == 1


def test_withheld_unknown_fields_missing_authors_and_long_texts(x_server, caplog):  # type: ignore[no-untyped-def]
    jam = live_jam()
    known = x_server.user_add("known")
    held = {"withheld": {"copyright": False, "country_codes": ["DE"]}}
    withheld = x_server.tweet_add(known, f"withheld {jam.tag}", extra=held)
    unknown_fields = x_server.tweet_add(
        known, f"new fields {jam.tag}", extra={"x_unknown_field": {"nested": [1, 2]}}
    )
    orphan = x_server.tweet_add("9999", f"author not in includes {jam.tag}")
    long = x_server.tweet_add(known, f"{jam.tag} " + "long " * 1200)

    with caplog.at_level(logging.INFO, logger="jamhost.networks.ingest"):
        result = ingest_poll(jam_id=jam.pk)

    stored = {p.external_id: p for p in x_posts(jam)}
    assert withheld not in stored
    assert f"tweet {withheld}: withheld" in caplog.text
    assert stored[unknown_fields].text == f"new fields {jam.tag}"
    assert stored[orphan].author_handle == "id9999"
    assert "missing from includes" in caplog.text
    assert len(stored[long].text) == 4000 and stored[long].text.endswith("…")
    assert "cut to 4000" in caplog.text
    assert result.stored == 3


def test_malformed_slow_and_failing_answers_back_off(x_server):  # type: ignore[no-untyped-def]
    jam = live_jam()
    now = timezone.now()
    for kind in ("malformed", "500", "503"):
        x_server.fault_next("/2/tweets/search/recent", kind)
    x_server.fault_next("/2/tweets/search/recent", "slow", delay=1.5)
    errors = []
    for step in range(4):
        when = now + timedelta(minutes=10 * step)
        errors.append(ingest_poll(jam_id=jam.pk, now=when).error)
    assert "not JSON" in errors[0]
    assert "500" in errors[1] and "503" in errors[2]
    assert "did not answer within" in errors[3]
    cursor = IngestCursor.objects.get(jam=jam)
    assert cursor.failures == 4
    assert cursor.next_poll_at - (now + timedelta(minutes=30)) >= timedelta(seconds=30)
    x_server.tweet_add(x_server.user_add("ok"), f"recovered {jam.tag}")
    assert ingest_poll(jam_id=jam.pk, now=now + timedelta(hours=1)).stored == 1
    cursor.refresh_from_db()
    assert cursor.failures == 0 and cursor.last_error == ""


def test_control_characters_are_dropped_so_every_database_stores_the_post(x_server):  # type: ignore[no-untyped-def]
    jam = live_jam()
    author = x_server.user_add("nul\x00user", "Name\x00 with\x07 bell")
    x_server.tweet_add(
        author,
        f"before\x00after\x1b[31m line\nbreak {jam.tag} https://example.org/x",
        urls=None,
        lang="e\x00n",
    )

    result = ingest_poll(jam_id=jam.pk)

    assert result.stored == 1 and result.error == ""
    (post,) = x_posts(jam)
    assert post.text.startswith("beforeafter[31m line\nbreak")
    assert (post.author_handle, post.author_name, post.lang) == ("nuluser", "Name with bell", "en")
    assert post.links == ["https://example.org/x"]
