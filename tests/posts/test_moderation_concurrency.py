"""Two moderators acting on one post at the same moment, on PostgreSQL with real threads:
one consistent state, an audit log that replays to it, and no error for either."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jamhost.jams.models import ModerationMode, Role
from jamhost.posts import author_moderation, jam_rules, moderation, post_moderation
from jamhost.posts.models import AuditEntry, Post, PostStatus
from jamhost.posts.services import post_compose
from tests.concurrency import race
from tests.factories import MembershipFactory, UserFactory, live_jam

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def assert_log_replays_to(post: Post) -> None:
    """Each entry starts from the state the previous one left, and the last one is the
    state stored: no lost or interleaved update."""
    entries = list(AuditEntry.objects.filter(post=post).order_by("created_at", "id"))
    post.refresh_from_db()
    state = None
    for entry in entries:
        if state is not None:
            assert entry.before == state
        state = entry.after
    if state is not None:
        assert state == {f: getattr(post, f) for f in moderation.STATE_FIELDS}


def test_hide_and_approve_at_once_end_in_one_state() -> None:
    jam = live_jam()
    first = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    second = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    jam_rules.jam_switch_moderation_mode(jam=jam, actor=jam.host, mode=ModerationMode.PRE)
    for n in range(8):
        post = post_compose(jam=jam, user=UserFactory(), body=f"pending {n}")
        assert post.status == PostStatus.PENDING
        hide, approve = race(
            lambda pk=post.pk: post_moderation.post_hide(
                jam=jam, actor=first, post_id=pk, reason="no"
            ),
            lambda pk=post.pk: post_moderation.post_approve(jam=jam, actor=second, post_id=pk),
        )
        assert isinstance(hide, moderation.Outcome) and hide.changed
        # Approve either went first (and hide then hid it) or was refused with a message.
        assert isinstance(approve, moderation.Outcome | ValidationError), approve
        post.refresh_from_db()
        assert post.status == PostStatus.HIDDEN
        assert_log_replays_to(post)
        changes = AuditEntry.objects.filter(post=post).count()
        assert changes == (2 if isinstance(approve, moderation.Outcome) else 1)


def test_the_same_action_twice_at_once_is_applied_once() -> None:
    jam = live_jam()
    first = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    second = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    post = post_compose(jam=jam, user=UserFactory(), body="pin me")
    rev = post.rev
    results = race(
        lambda: post_moderation.post_pin(jam=jam, actor=first, post_id=post.pk),
        lambda: post_moderation.post_pin(jam=jam, actor=second, post_id=post.pk),
    )
    assert all(isinstance(r, moderation.Outcome) for r in results), results
    assert sorted(r.changed for r in results) == [False, True]
    post.refresh_from_db()
    assert post.pinned and post.rev == rev + 1
    assert AuditEntry.objects.filter(post=post).count() == 1


def test_the_same_idempotency_key_at_once_is_applied_once() -> None:
    jam = live_jam()
    moderator = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    post = post_compose(jam=jam, user=UserFactory(), body="x")
    key = f"hide:{post.pk}@{post.rev}"
    results = race(
        *[lambda: post_moderation.post_hide(jam=jam, actor=moderator, post_id=post.pk, key=key)] * 3
    )
    assert all(isinstance(r, moderation.Outcome) for r in results), results
    assert [r.changed for r in results].count(True) == 1
    assert AuditEntry.objects.filter(key=key).count() == 1


def test_block_and_pin_and_a_new_post_at_once() -> None:
    jam = live_jam()
    first = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    second = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    for round_ in range(5):
        troll = UserFactory()
        posts = [post_compose(jam=jam, user=troll, body=f"post {round_}.{n}") for n in range(3)]
        key = posts[0].author_key
        results = race(
            lambda key=key: author_moderation.author_block(jam=jam, actor=first, author_key=key),
            lambda pk=posts[1].pk: post_moderation.post_pin(jam=jam, actor=second, post_id=pk),
            lambda troll=troll: post_compose(jam=jam, user=troll, body="one more"),
        )
        unexpected = [
            r for r in results if isinstance(r, Exception) and not isinstance(r, ValidationError)
        ]
        assert not unexpected, unexpected
        # Whatever the order, once the block committed nothing of theirs is visible:
        # a post racing the block is decided under the same jam row lock.
        visible = Post.objects.filter(jam=jam, author_key=key).exclude(status=PostStatus.HIDDEN)
        assert not visible.exists(), list(visible)
    revs = list(Post.objects.filter(jam=jam).values_list("rev", flat=True))
    assert len(revs) == len(set(revs))  # every change took its own rev
