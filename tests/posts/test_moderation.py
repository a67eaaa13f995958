"""Moderation services: every action, both modes, blocks, muted words, the audit log,
idempotency, two moderators on one post, and who may do what."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string

from jamhost.jams.models import ModerationMode, Role
from jamhost.jams.people import membership_remove
from jamhost.posts import author_moderation, jam_rules, moderation, post_moderation
from jamhost.posts.actions import POST_ACTIONS
from jamhost.posts.console_selectors import panelist_answers, people_in_jam
from jamhost.posts.models import AuditEntry, Block, ModerationAction, Post, PostStatus
from jamhost.posts.render import MODERATOR, VIEWER, render_post
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam

pytestmark = pytest.mark.django_db


@pytest.fixture
def jam():
    return live_jam(released=2)


@pytest.fixture
def moderator(jam):
    return MembershipFactory(jam=jam, role=Role.MODERATOR).user


@pytest.fixture
def panelist(jam):
    return MembershipFactory(jam=jam, role=Role.PANELIST).user


def viewer_sees(post: Post) -> bool:
    """What a viewer's screen shows for the post: its fragment, or a removal marker."""
    post.refresh_from_db()
    return 'class="post-removed"' not in render_post(post, VIEWER)


def test_hide_removes_the_post_for_viewers_and_records_who_why_before_after(jam, moderator) -> None:
    post = post_compose(jam=jam, user=UserFactory(), body="spam spam")
    rev_before = post.rev
    outcome = post_moderation.post_hide(jam=jam, actor=moderator, post_id=post.pk, reason="spam")
    assert outcome.changed
    post.refresh_from_db()
    assert post.status == PostStatus.HIDDEN and post.status_reason == "spam"
    assert post.rev > rev_before  # a new rev: every screen applies the change
    assert not viewer_sees(post)
    assert 'data-status="hidden"' in render_post(post, MODERATOR)
    entry = AuditEntry.objects.get(jam=jam)
    assert entry.actor == moderator and entry.actor_handle == moderator.username
    assert entry.action == ModerationAction.HIDE and entry.post == post
    assert entry.before["status"] == "visible" and entry.after["status"] == "hidden"
    assert entry.reason == "spam" and entry.created_at is not None
    assert ("status", "visible", "hidden") in entry.changes()
    assert ("pinned", "no", "yes") in AuditEntry(
        before={"pinned": False}, after={"pinned": True}
    ).changes()


def test_restore_brings_a_hidden_post_back_to_viewers(jam, moderator) -> None:
    post = post_compose(jam=jam, user=UserFactory(), body="misjudged")
    post_moderation.post_hide(jam=jam, actor=moderator, post_id=post.pk)
    post_moderation.post_restore(jam=jam, actor=moderator, post_id=post.pk)
    assert viewer_sees(post)
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["restore", "hide"]


def test_pre_moderation_holds_participants_until_approved(jam, moderator, panelist) -> None:
    outcome = jam_rules.jam_switch_moderation_mode(jam=jam, actor=jam.host, mode=ModerationMode.PRE)
    assert outcome.changed
    held = post_compose(jam=jam, user=UserFactory(), body="Hi all")
    answer = post_compose(jam=jam, user=panelist, body="Answer")
    assert held.status == PostStatus.PENDING and not viewer_sees(held)
    assert answer.status == PostStatus.VISIBLE  # the host's panelists are never held
    post_moderation.post_approve(jam=jam, actor=moderator, post_id=held.pk)
    assert viewer_sees(held)
    # Back to post-moderation: participants are visible at once again.
    jam_rules.jam_switch_moderation_mode(jam=jam, actor=jam.host, mode=ModerationMode.POST)
    assert post_compose(jam=jam, user=UserFactory(), body="Now").status == PostStatus.VISIBLE
    modes = AuditEntry.objects.filter(action=ModerationAction.MODE).order_by("id")
    assert [(e.before, e.after) for e in modes] == [
        ({"moderation_mode": "post"}, {"moderation_mode": "pre"}),
        ({"moderation_mode": "pre"}, {"moderation_mode": "post"}),
    ]


def test_only_the_host_switches_the_mode(jam, moderator) -> None:
    with pytest.raises(PermissionDenied):
        jam_rules.jam_switch_moderation_mode(jam=jam, actor=moderator, mode=ModerationMode.PRE)
    with pytest.raises(ValidationError):
        jam_rules.jam_switch_moderation_mode(jam=jam, actor=jam.host, mode="chaos")
    jam.refresh_from_db()
    assert jam.moderation_mode == ModerationMode.POST


def test_pin_and_unpin(jam, moderator) -> None:
    post = post_compose(jam=jam, user=UserFactory(), body="Worth keeping")
    post_moderation.post_pin(jam=jam, actor=moderator, post_id=post.pk)
    post.refresh_from_db()
    assert post.pinned and 'data-pinned="true"' in render_post(post, VIEWER)
    post_moderation.post_unpin(jam=jam, actor=moderator, post_id=post.pk)
    post.refresh_from_db()
    assert not post.pinned and 'data-pinned="false"' in render_post(post, VIEWER)


def test_a_hidden_post_cannot_be_pinned_or_featured(jam, moderator, panelist) -> None:
    post = post_compose(jam=jam, user=panelist, body="An answer")
    post_moderation.post_hide(jam=jam, actor=moderator, post_id=post.pk)
    with pytest.raises(ValidationError, match="Approve or restore it first"):
        post_moderation.post_pin(jam=jam, actor=moderator, post_id=post.pk)
    with pytest.raises(ValidationError):
        post_moderation.post_feature(jam=jam, actor=moderator, post_id=post.pk)


def test_feature_an_answer_to_its_question(jam, moderator, panelist) -> None:
    answer = post_compose(jam=jam, user=panelist, body="My answer")
    post_moderation.post_feature(jam=jam, actor=moderator, post_id=answer.pk)
    answer.refresh_from_db()
    assert answer.featured and 'data-featured="true"' in render_post(answer, VIEWER)
    plain = post_compose(jam=jam, user=UserFactory(), body="No A-number")
    with pytest.raises(ValidationError, match="answer to a question"):
        post_moderation.post_feature(jam=jam, actor=moderator, post_id=plain.pk)
    post_moderation.post_unfeature(jam=jam, actor=moderator, post_id=answer.pk)
    answer.refresh_from_db()
    assert not answer.featured


def test_mark_an_audience_question_answered(jam, moderator, panelist) -> None:
    question = post_compose(jam=jam, user=UserFactory(), body="How do you start?")
    post_moderation.post_mark_answered(jam=jam, actor=moderator, post_id=question.pk)
    question.refresh_from_db()
    assert question.answered
    assert 'data-answered="true"' in render_post(question, MODERATOR)
    post_moderation.post_mark_unanswered(jam=jam, actor=moderator, post_id=question.pk)
    question.refresh_from_db()
    assert not question.answered
    answer = post_compose(jam=jam, user=panelist, body="Is this a question?")
    with pytest.raises(ValidationError, match="audience question"):
        post_moderation.post_mark_answered(jam=jam, actor=moderator, post_id=answer.pk)


def test_block_hides_earlier_posts_and_later_ones_arrive_hidden(jam, moderator) -> None:
    troll = UserFactory()
    first = post_compose(jam=jam, user=troll, body="one")
    second = post_compose(jam=jam, user=troll, body="two")
    bystander = post_compose(jam=jam, user=UserFactory(), body="fine")
    outcome = author_moderation.author_block(
        jam=jam, actor=moderator, author_key=first.author_key, reason="trolling"
    )
    assert outcome.changed and "2 post(s) hidden" in outcome.message
    assert not viewer_sees(first) and not viewer_sees(second) and viewer_sees(bystander)
    later = post_compose(jam=jam, user=troll, body="three")
    assert later.status == PostStatus.HIDDEN and later.status_reason == "author blocked"
    assert moderation.author_is_blocked(jam=jam, author_key=first.author_key)
    entry = AuditEntry.objects.get(action=ModerationAction.BLOCK)
    assert entry.author_handle == troll.username and entry.reason == "trolling"
    assert entry.after == {"blocked": True, "hidden_posts": [first.seq, second.seq]}
    person = next(p for p in people_in_jam(jam=jam) if p.author_key == first.author_key)
    assert person.blocked and person.posts == 3 and person.hidden == 3


def test_a_block_is_per_jam(jam, moderator) -> None:
    troll = UserFactory()
    post = post_compose(jam=jam, user=troll, body="one")
    author_moderation.author_block(jam=jam, actor=moderator, author_key=post.author_key)
    other = live_jam()
    assert post_compose(jam=other, user=troll, body="elsewhere").status == PostStatus.VISIBLE


def test_unblock_restores_only_what_the_block_hid(jam, moderator) -> None:
    troll = UserFactory()
    by_hand = post_compose(jam=jam, user=troll, body="really bad")
    post_moderation.post_hide(jam=jam, actor=moderator, post_id=by_hand.pk, reason="abuse")
    ok = post_compose(jam=jam, user=troll, body="ok")
    author_moderation.author_block(jam=jam, actor=moderator, author_key=ok.author_key)
    outcome = author_moderation.author_unblock(jam=jam, actor=moderator, author_key=ok.author_key)
    assert outcome.changed
    assert viewer_sees(ok) and not viewer_sees(by_hand)
    assert not Block.objects.exists()


def test_the_host_cannot_be_blocked(jam, moderator) -> None:
    post = post_compose(jam=jam, user=jam.host, body="Welcome")
    with pytest.raises(ValidationError, match="host"):
        author_moderation.author_block(jam=jam, actor=moderator, author_key=post.author_key)


def test_muted_word_sends_a_post_to_pending(jam, moderator) -> None:
    outcome = jam_rules.jam_set_muted_words(
        jam=jam, actor=moderator, words="crypto\n  Buy Now \ncrypto\n\n"
    )
    assert outcome.changed
    jam.refresh_from_db()
    assert jam.muted_words == "crypto\nBuy Now"
    held = post_compose(jam=jam, user=UserFactory(), body="BUY NOW cheap")
    assert held.status == PostStatus.PENDING and "buy now" in held.status_reason
    assert not viewer_sees(held)
    assert post_compose(jam=jam, user=UserFactory(), body="fine").status == PostStatus.VISIBLE
    entry = AuditEntry.objects.get(action=ModerationAction.MUTED_WORDS)
    assert entry.before == {"muted_words": []}
    assert entry.after == {"muted_words": ["crypto", "Buy Now"]}


def test_muted_words_refused_when_another_moderator_changed_them(jam, moderator) -> None:
    jam_rules.jam_set_muted_words(jam=jam, actor=moderator, words="spam", expected="")
    with pytest.raises(ValidationError, match="Another moderator changed"):
        jam_rules.jam_set_muted_words(jam=jam, actor=jam.host, words="scam", expected="")
    jam.refresh_from_db()
    assert jam.muted_words == "spam"


def test_same_idempotency_key_is_applied_once(jam, moderator) -> None:
    post = post_compose(jam=jam, user=UserFactory(), body="pin me")
    first = post_moderation.post_pin(jam=jam, actor=moderator, post_id=post.pk, key="pin:1@9")
    post_moderation.post_unpin(jam=jam, actor=moderator, post_id=post.pk, key="unpin:1@10")
    resent = post_moderation.post_pin(jam=jam, actor=moderator, post_id=post.pk, key="pin:1@9")
    assert first.changed and not resent.changed and "Already done" in resent.message
    post.refresh_from_db()
    assert not post.pinned  # the resend did not undo the later unpin
    assert AuditEntry.objects.filter(action=ModerationAction.PIN).count() == 1


def test_two_moderators_on_one_post_sequentially(jam, moderator) -> None:
    other = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    jam_rules.jam_switch_moderation_mode(jam=jam, actor=jam.host, mode=ModerationMode.PRE)
    post = post_compose(jam=jam, user=UserFactory(), body="pending one")
    post_moderation.post_hide(jam=jam, actor=moderator, post_id=post.pk)
    # The other moderator clicked "approve" on the version they saw: a clear refusal.
    with pytest.raises(ValidationError, match="hidden meanwhile"):
        post_moderation.post_approve(jam=jam, actor=other, post_id=post.pk)
    again = post_moderation.post_hide(jam=jam, actor=other, post_id=post.pk)
    assert not again.changed and "already hidden" in again.message
    post.refresh_from_db()
    assert post.status == PostStatus.HIDDEN
    assert AuditEntry.objects.filter(post=post).count() == 1


@pytest.mark.parametrize(
    "action",
    [
        "post_approve",
        "post_hide",
        "post_restore",
        "post_pin",
        "post_unpin",
        "post_feature",
        "post_unfeature",
        "post_mark_answered",
        "post_mark_unanswered",
    ],
)
def test_every_post_action_refuses_non_moderators(jam, panelist, action: str) -> None:
    post = post_compose(jam=jam, user=panelist, body="An answer?")
    state = (post.status, post.pinned, post.featured, post.answered, post.rev)
    for actor in (panelist, UserFactory()):
        with pytest.raises(PermissionDenied):
            getattr(post_moderation, action)(jam=jam, actor=actor, post_id=post.pk)
    post.refresh_from_db()
    assert (post.status, post.pinned, post.featured, post.answered, post.rev) == state
    assert not AuditEntry.objects.exists()


def test_author_and_rule_actions_refuse_non_moderators(jam, panelist) -> None:
    post = post_compose(jam=jam, user=UserFactory(), body="x")
    with pytest.raises(PermissionDenied):
        author_moderation.author_block(jam=jam, actor=panelist, author_key=post.author_key)
    with pytest.raises(PermissionDenied):
        author_moderation.author_unblock(jam=jam, actor=panelist, author_key=post.author_key)
    with pytest.raises(PermissionDenied):
        jam_rules.jam_set_muted_words(jam=jam, actor=panelist, words="x")
    assert not Block.objects.exists() and not AuditEntry.objects.exists()


def test_staff_and_host_may_moderate(jam) -> None:
    staff = UserFactory(is_staff=True)
    post = post_compose(jam=jam, user=UserFactory(), body="x")
    assert post_moderation.post_pin(jam=jam, actor=staff, post_id=post.pk).changed
    assert post_moderation.post_unpin(jam=jam, actor=jam.host, post_id=post.pk).changed


def test_a_moderator_removed_mid_jam_is_refused(jam, moderator) -> None:
    post = post_compose(jam=jam, user=UserFactory(), body="x")
    membership_remove(jam=jam, user_id=moderator.pk, actor=jam.host)
    with pytest.raises(PermissionDenied, match="not a moderator"):
        post_moderation.post_hide(jam=jam, actor=moderator, post_id=post.pk)
    post.refresh_from_db()
    assert post.status == PostStatus.VISIBLE


def test_unknown_post_and_post_of_another_jam_are_refused(jam, moderator) -> None:
    other_post = post_compose(jam=live_jam(), user=UserFactory(), body="elsewhere")
    for post_id in (999_999, other_post.pk):
        with pytest.raises(ValidationError) as info:
            post_moderation.post_hide(jam=jam, actor=moderator, post_id=post_id)
        assert info.value.code == "not_found"
    other_post.refresh_from_db()
    assert other_post.status == PostStatus.VISIBLE


def test_panelist_answers_per_question(jam, moderator, panelist) -> None:
    slow = MembershipFactory(jam=jam, role=Role.PANELIST).user
    post_compose(jam=jam, user=panelist, body="answer to 2")  # the current question, Q2
    post_compose(jam=jam, user=slow, body="late answer to 1", question_number=1)
    hidden = post_compose(jam=jam, user=slow, body="hidden answer to 2")
    post_moderation.post_hide(jam=jam, actor=moderator, post_id=hidden.pk)
    table = {row.question.number: (row.answered, row.waiting) for row in panelist_answers(jam=jam)}
    assert table[1] == ([slow.username], [panelist.username])
    assert table[2] == ([panelist.username], [slow.username])  # a hidden answer does not count


def test_an_archived_jam_is_not_moderated_but_an_ended_one_is(jam, moderator) -> None:
    from jamhost.jams.lifecycle import jam_end
    from jamhost.transcripts.services import jam_archive

    spam = post_compose(jam=jam, user=UserFactory(), body="spam spam")
    keep = post_compose(jam=jam, user=UserFactory(), body="a good answer")
    jam_end(jam=jam)
    assert post_moderation.post_hide(jam=jam, actor=moderator, post_id=spam.pk).changed
    jam_archive(jam_id=jam.pk)
    keep.refresh_from_db()
    rev, audited = keep.rev, AuditEntry.objects.filter(jam=jam).count()
    refused = [
        lambda: post_moderation.post_hide(jam=jam, actor=moderator, post_id=keep.pk),
        lambda: post_moderation.post_restore(jam=jam, actor=moderator, post_id=spam.pk),
        lambda: post_moderation.post_pin(jam=jam, actor=moderator, post_id=keep.pk),
        lambda: author_moderation.author_block(
            jam=jam, actor=moderator, author_key=keep.author_key
        ),
    ]
    for action in refused:
        with pytest.raises(ValidationError, match="archived; its transcript is final"):
            action()
    keep.refresh_from_db()
    assert keep.status == PostStatus.VISIBLE and not keep.pinned and keep.rev == rev
    assert AuditEntry.objects.filter(jam=jam).count() == audited
    assert not Block.objects.filter(jam=jam).exists()


# The actions a post allows: computed once on the server, shown by the template ---------


def _buttons(post: Post) -> tuple[set[str], str]:
    html = render_to_string("posts/_post.html", {"post": post, "audience": MODERATOR, "live": True})
    shown = set(re.findall(r'name="action" value="(\w+)" data-shortcut', html))
    listed = re.search(r'class="mod-actions"[^>]*data-actions="([^"]*)"', html)
    assert listed is not None
    return shown, listed.group(1)


def test_the_console_shows_exactly_the_actions_the_post_allows(jam, panelist, moderator) -> None:  # type: ignore[no-untyped-def]
    answer = post_compose(jam=jam, user=panelist, body="A2 an answer", question_number="2")
    asked = post_compose(jam=jam, user=UserFactory(), body="Why so?")
    states = []
    for post, change in [
        (answer, lambda: None),
        (answer, lambda: post_moderation.post_pin(jam=jam, actor=moderator, post_id=answer.pk)),
        (answer, lambda: post_moderation.post_feature(jam=jam, actor=moderator, post_id=answer.pk)),
        (answer, lambda: post_moderation.post_hide(jam=jam, actor=moderator, post_id=answer.pk)),
        (asked, lambda: None),
        (
            asked,
            lambda: post_moderation.post_mark_answered(jam=jam, actor=moderator, post_id=asked.pk),
        ),
    ]:
        change()
        post.refresh_from_db()
        shown, listed = _buttons(post)
        assert shown == set(post.moderation_actions), (post.status, shown)
        assert listed == " ".join(post.moderation_actions)
        states.append(post.moderation_actions)
    assert states[0] == ("block", "feature", "hide", "pin")
    assert states[2] == ("block", "hide", "unfeature", "unpin")
    assert states[3] == ("block", "restore")
    assert "unanswer" in states[5] and "answer" in states[4]
    # An audience question is no answer: not offered, and the service refuses it too.
    assert "feature" not in states[5]
    with pytest.raises(ValidationError):
        post_moderation.post_feature(jam=jam, actor=moderator, post_id=asked.pk)


def test_a_service_refuses_an_action_missing_from_the_posts_actions(
    jam, moderator, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The services ask Post.moderation_actions, the rule the console's buttons follow,
    rather than deciding again: an action it leaves out is refused, state unchanged."""
    post = post_compose(jam=jam, user=UserFactory(), body="Pin me?")
    rev = post.rev
    monkeypatch.setattr(Post, "moderation_actions", property(lambda self: ("hide",)))
    for name, done in (("post_pin", "pinned"), ("post_mark_answered", "answered")):
        with pytest.raises(ValidationError, match=f"cannot be {done} as it is now"):
            getattr(post_moderation, name)(jam=jam, actor=moderator, post_id=post.pk)
    with pytest.raises(ValidationError, match="cannot be blocked"):
        author_moderation.author_block(jam=jam, actor=moderator, author_key=post.author_key)
    post.refresh_from_db()
    assert (post.pinned, post.answered, post.rev) == (False, False, rev)
    assert not Block.objects.exists() and not AuditEntry.objects.exists()
    assert post_moderation.post_hide(jam=jam, actor=moderator, post_id=post.pk).changed


def _posts_in_every_state(jam, moderator, panelist) -> dict[str, Post]:  # type: ignore[no-untyped-def]
    from jamhost.posts.models import WITHDRAWN_REASON

    def answer() -> Post:
        return post_compose(jam=jam, user=panelist, body="A2 an answer", question_number="2")

    def asked() -> Post:
        return post_compose(jam=jam, user=UserFactory(), body="Why so?")

    posts = {"visible answer": answer(), "visible question": asked()}
    shown = posts["pinned featured answer"] = answer()
    for action in (post_moderation.post_pin, post_moderation.post_feature):
        action(jam=jam, actor=moderator, post_id=shown.pk)
    gone = posts["hidden pinned answer"] = answer()
    for action in (post_moderation.post_pin, post_moderation.post_feature):
        action(jam=jam, actor=moderator, post_id=gone.pk)
    post_moderation.post_hide(jam=jam, actor=moderator, post_id=gone.pk)
    done = posts["answered question"] = asked()
    post_moderation.post_mark_answered(jam=jam, actor=moderator, post_id=done.pk)
    posts["pending question"] = asked()
    Post.objects.filter(pk=posts["pending question"].pk).update(status=PostStatus.PENDING)
    posts["withdrawn question"] = asked()
    Post.objects.filter(pk=posts["withdrawn question"].pk).update(
        status=PostStatus.HIDDEN, status_reason=WITHDRAWN_REASON
    )
    for post in posts.values():
        post.refresh_from_db()
    return posts


@pytest.mark.parametrize("action", sorted(POST_ACTIONS))
def test_a_post_action_changes_the_post_exactly_when_the_post_allows_it(
    jam, moderator, panelist, action: str
) -> None:  # type: ignore[no-untyped-def]
    """In every state: an allowed action changes the post; any other is done already
    ("already …", no change) or refused with a reason, never applied."""
    applied = []
    for state, post in _posts_in_every_state(jam, moderator, panelist).items():
        allowed = action in post.moderation_actions
        applied += [state] if allowed else []
        try:
            outcome = POST_ACTIONS[action](jam=jam, actor=moderator, post_id=post.pk)
        except ValidationError as refused:
            assert not allowed, (state, refused.messages)
            assert refused.messages[0], state
        else:
            assert outcome.changed == allowed, (state, outcome.message)
            if not allowed:
                assert "already" in outcome.message, (state, outcome.message)
        after = Post.objects.get(pk=post.pk)
        assert (after.rev != post.rev) == allowed, state
    assert applied, "no state allows the action: the test would prove nothing"


def test_restore_is_for_hidden_posts_and_unpin_for_visible_ones(jam, moderator) -> None:  # type: ignore[no-untyped-def]
    pending = post_compose(jam=jam, user=UserFactory(), body="held")
    Post.objects.filter(pk=pending.pk).update(status=PostStatus.PENDING)
    with pytest.raises(ValidationError, match="waiting for approval, not hidden: approve it"):
        post_moderation.post_restore(jam=jam, actor=moderator, post_id=pending.pk)
    assert post_moderation.post_approve(jam=jam, actor=moderator, post_id=pending.pk).changed
    pinned = post_compose(jam=jam, user=UserFactory(), body="pinned")
    post_moderation.post_pin(jam=jam, actor=moderator, post_id=pinned.pk)
    post_moderation.post_hide(jam=jam, actor=moderator, post_id=pinned.pk)
    with pytest.raises(ValidationError, match="Only a visible post can be unpinned"):
        post_moderation.post_unpin(jam=jam, actor=moderator, post_id=pinned.pk)
    post_moderation.post_restore(jam=jam, actor=moderator, post_id=pinned.pk)
    assert post_moderation.post_unpin(jam=jam, actor=moderator, post_id=pinned.pk).changed
