"""Publishing one post has a bounded bill and ends in a final state, whatever X answers.

Each case publishes one post through the X-compatible server in one of X's failure modes
and drives the retries as the sweep does, with the clock moved on (jamhost's and the
server's together) until nothing is due any more. Whatever happened, X saw at most 2
create calls and served at most 30 posts for the look-ups, nothing went out twice, the
post is published or failed with a reason a person can act on, and the cost panel counts
every post read and created."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jamhost.networks.models import Publication, XStatus
from jamhost.networks.publishing import post_publish, post_publish_retry, publications_due
from jamhost.networks.usage import jam_cost
from jamhost.posts.models import Post
from jamhost.posts.services import post_compose
from tests.factories import live_jam
from tests.networks.conftest import link_x
from tests.xstate import on_x

pytestmark = pytest.mark.django_db

TEXT = "Q&A <3: small steps > big plans"
CREATE, TIMELINE = "/2/tweets", "/2/users/"
NOT_CONFIRMED = "Not confirmed: check your X profile"
DUPLICATE = "X refuses the same text twice; change a word"


@dataclass
class Mode:
    faults: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    timeline_lag: float = 0.0
    posted_before: bool = False  # the account already has this text on X
    outcome: str = XStatus.PUBLISHED
    message: str = ""
    creates: int = 1
    # Look-ups that time out: X served (and bills) posts jamhost never received.
    unseen_reads: bool = False


MODES = {
    "answered": Mode(),
    "timeout after create": Mode(faults=[(CREATE, "slow_after_create", {"delay": 1.5})]),
    "answer lost after create": Mode(faults=[(CREATE, "drop_after_create", {})]),
    "503 after create": Mode(faults=[(CREATE, "503_after_create", {})]),
    "connection cut before create": Mode(faults=[(CREATE, "drop", {})], creates=2),
    "503 before create": Mode(faults=[(CREATE, "503", {})], creates=2),
    "garbage answer": Mode(faults=[(CREATE, "malformed", {})], creates=2),
    "201 without an id": Mode(
        faults=[(CREATE, "raw", {"status": 201, "body": {"data": {}}})], creates=2
    ),
    "duplicate of a post sent before jamhost": Mode(
        posted_before=True, outcome=XStatus.FAILED, message=DUPLICATE
    ),
    "duplicate after a lost answer, found late": Mode(
        faults=[(CREATE, "drop_after_create", {})], timeline_lag=100, creates=2
    ),
    "duplicate after a lost answer, never found": Mode(
        faults=[(CREATE, "drop_after_create", {})],
        timeline_lag=100_000,
        outcome=XStatus.FAILED,
        message=NOT_CONFIRMED,
        creates=2,
    ),
    "429 once": Mode(faults=[(CREATE, "429", {"reset_in": 60})], creates=2),
    "429 always": Mode(
        faults=[(CREATE, "429", {"reset_in": 60, "times": 20})],
        outcome=XStatus.FAILED,
        message="rate limit",
        creates=2,
    ),
    "500 always": Mode(
        faults=[(CREATE, "500", {"times": 20})],
        outcome=XStatus.FAILED,
        message=NOT_CONFIRMED,
        creates=2,
    ),
    # A second create only follows a look-up that answered without the post.
    "everything down": Mode(
        faults=[(CREATE, "503", {"times": 20}), (TIMELINE, "500", {"times": 20})],
        outcome=XStatus.FAILED,
        message=NOT_CONFIRMED,
    ),
    "look-ups answer garbage": Mode(
        faults=[(CREATE, "drop_after_create", {}), (TIMELINE, "malformed", {"times": 20})],
        outcome=XStatus.FAILED,
        message=NOT_CONFIRMED,
    ),
    "look-ups rate limited": Mode(
        faults=[(CREATE, "drop_after_create", {}), (TIMELINE, "429", {"times": 20})],
        outcome=XStatus.FAILED,
        message=NOT_CONFIRMED,
    ),
    "look-ups time out": Mode(
        faults=[(CREATE, "drop_after_create", {}), (TIMELINE, "slow", {"delay": 1.5, "times": 3})],
        outcome=XStatus.FAILED,
        message=NOT_CONFIRMED,
        unseen_reads=True,
    ),
}


def drive(x_server: Any, *, start: Any, minutes: int = 30, step: int = 5) -> None:
    """Run every due publication as the sweep does, moving both clocks on by `step`."""
    now = start
    for _ in range(minutes * 60 // step):
        now += timedelta(seconds=step)
        x_server.advance(step)
        for post_id in publications_due(now=now):
            post_publish(post_id=post_id, now=now)


def compose(jam: Any, captured: Any) -> Post:
    with captured(execute=True):
        post = post_compose(jam=jam, user=jam.host, body=TEXT)
    post.refresh_from_db()
    return post


@pytest.mark.parametrize("name", list(MODES))
def test_one_post_costs_at_most_two_creates_and_thirty_reads(
    name: str, x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mode = MODES[name]
    jam = live_jam()
    account = link_x(x_server, jam.host)
    # The account's other posts: a look-up must pick out the right one among them.
    for n in range(12):
        x_server.tweet_add(account.x_user_id, f"unrelated post {n}")
    if mode.posted_before:
        x_server.tweet_add(account.x_user_id, f"A1: {TEXT} {jam.tag}")
    x_server.timeline_lag = mode.timeline_lag
    for path, kind, options in mode.faults:
        x_server.fault_next(path, kind, **options)
    start = timezone.now()

    post = compose(jam, django_capture_on_commit_callbacks)
    drive(x_server, start=start)

    post.refresh_from_db()
    creates = len(x_server.requests_to(CREATE, "POST"))
    read = sum(x_server.served.values())
    assert creates <= 2 and read <= 30, (creates, read)
    assert creates == mode.creates
    assert on_x(post).status == mode.outcome, on_x(post).error
    assert mode.message in on_x(post).error
    mine = [t for t in x_server.tweets_by(account.x_user_id) if "small steps" in t["text"]]
    assert len(mine) <= 1  # nothing posted twice
    if mode.outcome == XStatus.PUBLISHED:
        assert on_x(post).x_id == mine[0]["id"]
    else:
        assert on_x(post).x_id is None
    assert Publication.objects.get(post=post).done
    assert publications_due(now=start + timedelta(days=1)) == []  # nothing left running
    cost = jam_cost(jam_id=jam.pk)
    looked_up = x_server.served.get("users_tweets", 0)
    if mode.unseen_reads:
        assert cost.reads == cost.lookup_reads <= looked_up
    else:
        assert cost.reads == read and cost.lookup_reads == looked_up
    assert cost.creates == (1 if mode.outcome == XStatus.PUBLISHED else 0)


def test_look_ups_are_small_spaced_and_limited_to_the_authors_posts_since_the_attempt(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    jam = live_jam()
    account = link_x(x_server, jam.host)
    x_server.timeline_lag = 100_000
    x_server.fault_next(CREATE, "drop_after_create")
    x_server.fault_next(CREATE, "drop_after_create")
    start = timezone.now()
    post = compose(jam, django_capture_on_commit_callbacks)
    drive(x_server, start=start, minutes=10, step=1)

    lookups = x_server.requests_to(f"{TIMELINE}{account.x_user_id}/tweets")
    assert len(lookups) == 3
    for _, _, query, _ in lookups:
        assert int(query["max_results"][0]) <= 10
        assert query["start_time"][0] >= (start - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert not x_server.requests_to("/2/tweets/search/recent")  # no 100-post search pages
    # Spaced to allow for X's lag: about 10 s, 1 min and 5 min after the first attempt.
    post.refresh_from_db()
    assert on_x(post).status == XStatus.FAILED
    assert NOT_CONFIRMED in on_x(post).error


def test_retry_after_not_confirmed_finds_the_post_once_x_lists_it(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    jam = live_jam()
    account = link_x(x_server, jam.host)
    x_server.timeline_lag = 600
    x_server.fault_next(CREATE, "drop_after_create")
    start = timezone.now()
    post = compose(jam, django_capture_on_commit_callbacks)
    drive(x_server, start=start, minutes=8)
    post.refresh_from_db()
    assert NOT_CONFIRMED in on_x(post).error

    # Retried on the test's clock; the sweep (drive) sends it.
    post_publish_retry(post=post, actor=jam.host, now=start + timedelta(minutes=8))
    drive(x_server, start=start + timedelta(minutes=8), minutes=8)

    post.refresh_from_db()
    (tweet,) = [t for t in x_server.tweets_by(account.x_user_id) if "small steps" in t["text"]]
    assert on_x(post).status == XStatus.PUBLISHED
    assert on_x(post).x_id == tweet["id"]


def test_the_same_text_twice_never_takes_the_first_posts_id(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    jam = live_jam()
    link_x(x_server, jam.host)
    first = compose(jam, django_capture_on_commit_callbacks)
    assert on_x(first).status == XStatus.PUBLISHED

    # The second identical post's answer is lost: X refused it as a duplicate, but
    # jamhost cannot know; its look-ups see the first post's tweet with the same text.
    x_server.fault_next(CREATE, "503")
    second = compose(jam, django_capture_on_commit_callbacks)
    drive(x_server, start=timezone.now(), minutes=10)

    first.refresh_from_db()
    second.refresh_from_db()
    assert on_x(first).status == XStatus.PUBLISHED and first.status == "visible"
    assert on_x(second).x_id is None
    assert on_x(second).status == XStatus.FAILED
    assert DUPLICATE in on_x(second).error or NOT_CONFIRMED in on_x(second).error


STATUSES = [200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503, 504]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
bodies = (
    json_values
    | st.binary(max_size=40)
    | st.builds(lambda i: {"data": {"id": i}}, st.text(max_size=20) | st.integers())
    | st.builds(
        lambda d: {"data": d, "meta": {"result_count": 3}}, st.lists(json_values, max_size=5)
    )
    | st.just({"detail": "You are not allowed to create a Tweet with duplicate content."})
)
answers = st.tuples(st.sampled_from([CREATE, TIMELINE]), st.sampled_from(STATUSES), bodies)


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(answers, max_size=6), lag=st.sampled_from([0.0, 30.0, 100_000.0]))
def test_any_answer_x_gives_ends_in_a_final_state_with_a_bounded_bill(
    script: list[tuple[str, int, Any]],
    lag: float,
    x_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Any status, any body, on creates and look-ups alike (the rest answered as X
    would): at most 2 creates and 30 reads, a final state, nothing posted twice."""
    with x_server.lock:
        x_server.faults.clear()
    jam = live_jam()
    account = link_x(x_server, jam.host)
    x_server.timeline_lag = lag
    for path, status, body in script:
        x_server.fault_next(path, "raw", status=status, body=body)
    served_before = sum(x_server.served.values())
    start = timezone.now()
    post = compose(jam, django_capture_on_commit_callbacks)
    drive(x_server, start=start, minutes=30, step=10)  # a 15-minute rate wait, then look-ups

    post.refresh_from_db()
    creates = [r for r in x_server.requests_to(CREATE, "POST") if r[3]["text"] == post.text]
    assert len(creates) <= 2
    assert sum(x_server.served.values()) - served_before <= 30
    assert on_x(post).status in (XStatus.PUBLISHED, XStatus.FAILED)
    assert on_x(post).status == XStatus.PUBLISHED or on_x(post).error
    assert len([t for t in x_server.tweets_by(account.x_user_id) if t["text"] == post.text]) <= 1
    assert publications_due(now=start + timedelta(days=1)) == []
