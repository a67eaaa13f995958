"""Catch-up reuses a slice already read for the same (jam, audience, after, rev); a change
to the jam takes a new rev, so it is never served a stale slice."""

from __future__ import annotations

import pytest

from jamhost.jams.models import Role
from jamhost.live.catchup import frames_after
from jamhost.posts.post_moderation import post_hide
from jamhost.posts.render import VIEWER
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, live_jam

pytestmark = [pytest.mark.django_db]


def test_a_slice_read_twice_is_the_same_and_a_change_is_seen_after() -> None:
    jam = live_jam()
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    post = post_compose(jam=jam, user=panelist, body="an answer")
    after = post.rev - 1

    first = frames_after(jam_id=jam.pk, audience=VIEWER, after=after)
    assert first == frames_after(jam_id=jam.pk, audience=VIEWER, after=after)
    assert first[0] == post.rev and 'class="post-removed"' not in first[1][0][1]

    post_hide(jam=jam, actor=jam.host, post_id=post.pk)
    upto, frames = frames_after(jam_id=jam.pk, audience=VIEWER, after=after)
    assert upto > post.rev
    assert [rev for rev, _ in frames] == [upto]  # the post, now at its new rev
    assert 'class="post-removed"' in frames[0][1]


def test_a_slice_read_again_costs_one_query_for_the_jam_s_rev(
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    """The second socket asking for the same cursor reads only the jam's row (its rev);
    its posts come from the kept slice. Without the cache it would read them again."""
    jam = live_jam(questions=2, released=1)
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    posts = [post_compose(jam=jam, user=panelist, body=f"answer {i}") for i in range(5)]
    first = frames_after(jam_id=jam.pk, audience=VIEWER, after=0)
    assert [rev for rev, _ in first[1]][-5:] == [p.rev for p in posts]
    with django_assert_num_queries(1):
        assert frames_after(jam_id=jam.pk, audience=VIEWER, after=0) == first
