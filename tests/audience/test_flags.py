"""Flags: once per person, the threshold sends a post to pending with an audit entry,
moderators see reasons and dismiss them, the per-user budget."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse

from jamhost.audience.flags import flag_add, flag_dismiss, jam_set_flag_threshold
from jamhost.audience.models import Flag
from jamhost.audience.selectors import flag_reasons, flagged_posts
from jamhost.posts.models import AuditEntry, Post, PostStatus
from jamhost.posts.render import MODERATOR, VIEWER, render_post

pytestmark = pytest.mark.django_db


def test_a_flag_counts_once_per_person(room) -> None:  # type: ignore[no-untyped-def]
    post = room.answer()
    flagged, changed = flag_add(post_id=post.pk, user=room.others[0], reason="spam")
    assert changed and flagged.flags == 1 and flagged.rev > post.rev
    again, changed = flag_add(post_id=post.pk, user=room.others[0], reason="abuse")
    assert not changed and again.flags == 1
    assert Flag.objects.filter(post=post).count() == 1


def test_reaching_the_threshold_sends_the_post_to_pending_and_audits_it(room) -> None:  # type: ignore[no-untyped-def]
    room.jam.flag_threshold = 2
    room.jam.save(update_fields=["flag_threshold"])
    post = room.question("Buy cheap watches?")
    flag_add(post_id=post.pk, user=room.others[0], reason="spam")
    assert Post.objects.get(pk=post.pk).status == PostStatus.VISIBLE
    assert not AuditEntry.objects.filter(post=post).exists()
    flagged, _ = flag_add(post_id=post.pk, user=room.others[1], reason="off-topic")
    assert flagged.status == PostStatus.PENDING
    assert flagged.status_reason.startswith("flagged by 2")
    entry = AuditEntry.objects.get(post=post)
    assert entry.action == "flagged" and entry.actor is None and entry.actor_handle == "jamhost"
    assert entry.before["status"] == "visible" and entry.after["status"] == "pending"
    assert "threshold of 2" in entry.reason
    # Viewers lose it (a removal marker); moderators see the flags and their reasons.
    assert "post-removed" in render_post(flagged, VIEWER)
    console = render_post(flagged, MODERATOR)
    assert "⚑ 2 flags" in console and "spam 1" in console and "off-topic 1" in console
    assert "data-dismiss-flags" in console
    assert flag_reasons(post=flagged) == [("spam", 1), ("off-topic", 1)]


def test_threshold_zero_never_sends_to_pending(room) -> None:  # type: ignore[no-untyped-def]
    jam_set_flag_threshold(jam=room.jam, actor=room.host, threshold="0")
    post = room.answer()
    for user in room.others:
        flag_add(post_id=post.pk, user=user, reason="abuse")
    assert Post.objects.get(pk=post.pk).status == PostStatus.VISIBLE


def test_only_the_host_sets_the_threshold_and_only_sensible_numbers(room) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        jam_set_flag_threshold(jam=room.jam, actor=room.moderator, threshold=5)
    for bad in ("many", "-1", "100000"):
        with pytest.raises(ValidationError):
            jam_set_flag_threshold(jam=room.jam, actor=room.host, threshold=bad)
    jam_set_flag_threshold(jam=room.jam, actor=room.host, threshold=" 7 ")
    room.jam.refresh_from_db()
    assert room.jam.flag_threshold == 7


def test_dismissing_flags_restores_what_the_flags_did_and_is_audited(room) -> None:  # type: ignore[no-untyped-def]
    room.jam.flag_threshold = 1
    room.jam.save(update_fields=["flag_threshold"])
    post = room.answer()
    flag_add(post_id=post.pk, user=room.others[0], reason="spam")
    with pytest.raises(PermissionDenied):
        flag_dismiss(post_id=post.pk, actor=room.others[1])
    dismissed, changed = flag_dismiss(post_id=post.pk, actor=room.moderator)
    assert changed and dismissed.flags == 0 and dismissed.status == PostStatus.VISIBLE
    assert AuditEntry.objects.filter(post=post, action="unflagged", actor=room.moderator).exists()
    assert flagged_posts(jam=room.jam) == []
    _, changed = flag_dismiss(post_id=post.pk, actor=room.moderator)
    assert not changed
    # A dismissed flag still counts as "flagged once" for its author.
    _, changed = flag_add(post_id=post.pk, user=room.others[0], reason="spam")
    assert not changed


def test_flags_of_an_archived_jam_cannot_be_dismissed(room) -> None:  # type: ignore[no-untyped-def]
    from jamhost.jams.lifecycle import jam_end
    from jamhost.transcripts.services import jam_archive

    post = room.answer()
    flag_add(post_id=post.pk, user=room.others[0], reason="spam")
    jam_end(jam=room.jam)
    jam_archive(jam_id=room.jam.pk)
    with pytest.raises(ValidationError, match="archived"):
        flag_dismiss(post_id=post.pk, actor=room.moderator)
    post.refresh_from_db()
    assert post.flags == 1 and Flag.objects.filter(post=post, dismissed_at=None).exists()
    assert not AuditEntry.objects.filter(post=post, action="unflagged").exists()


def test_dismissing_leaves_a_moderators_own_decision_alone(room) -> None:  # type: ignore[no-untyped-def]
    room.jam.moderation_mode = "pre"
    room.jam.save(update_fields=["moderation_mode"])
    post = room.question("Pending by pre-moderation?")
    assert post.status == PostStatus.PENDING
    flag_add(post_id=post.pk, user=room.others[0], reason="spam")
    dismissed, _ = flag_dismiss(post_id=post.pk, actor=room.moderator)
    assert dismissed.status == PostStatus.PENDING and dismissed.status_reason == "pre-moderation"


def test_refusals(room) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser

    from jamhost.posts.post_moderation import post_hide

    post = room.question()
    with pytest.raises(ValidationError, match="your own post"):
        flag_add(post_id=post.pk, user=room.asker, reason="spam")
    with pytest.raises(ValidationError, match="spam, abuse or off-topic"):
        flag_add(post_id=post.pk, user=room.others[0], reason="boring")
    with pytest.raises(PermissionDenied, match="Log in"):
        flag_add(post_id=post.pk, user=AnonymousUser(), reason="spam")
    release = Post.objects.get(jam=room.jam, kind="question")
    with pytest.raises(ValidationError, match="cannot be flagged"):
        flag_add(post_id=release.pk, user=room.others[0], reason="spam")
    post_hide(jam=room.jam, actor=room.moderator, post_id=post.pk)
    with pytest.raises(ValidationError, match="already hidden"):
        flag_add(post_id=post.pk, user=room.others[0], reason="spam")


def test_blocked_people_cannot_flag(room) -> None:  # type: ignore[no-untyped-def]
    from jamhost.posts.author_moderation import author_block

    troll = room.others[3]
    room.question("I was here?", user=troll)
    author_block(jam=room.jam, actor=room.moderator, author_key=f"app:{troll.pk}")
    post = room.answer()
    with pytest.raises(PermissionDenied, match="blocked"):
        flag_add(post_id=post.pk, user=troll, reason="spam")


@override_settings(AUDIENCE_FLAGS_PER_MINUTE=2)
def test_a_flood_of_flags_is_refused(room) -> None:  # type: ignore[no-untyped-def]
    posts = [room.answer(f"answer {i}") for i in range(3)]
    flagger = room.others[0]
    flag_add(post_id=posts[0].pk, user=flagger, reason="spam")
    flag_add(post_id=posts[1].pk, user=flagger, reason="spam")
    with pytest.raises(ValidationError, match=r"Try again in \d+ s"):
        flag_add(post_id=posts[2].pk, user=flagger, reason="spam")
    assert Post.objects.get(pk=posts[2].pk).flags == 0


def test_the_audit_panel_and_admin_name_what_the_flags_did(room, client, admin_client) -> None:  # type: ignore[no-untyped-def]
    room.jam.flag_threshold = 1
    room.jam.save(update_fields=["flag_threshold"])
    post = room.question("Buy cheap watches?")
    flag_add(post_id=post.pk, user=room.others[0], reason="spam")
    flag_dismiss(post_id=post.pk, actor=room.moderator)
    labels = {e.action: e.get_action_display() for e in AuditEntry.objects.filter(post=post)}
    assert labels == {"flagged": "held back on flags", "unflagged": "dismissed the flags on"}
    client.force_login(room.moderator)
    panels = client.get(reverse("posts:console_panels", args=[room.jam.slug])).content.decode()
    assert "@jamhost</strong> held back on flags" in panels
    assert f"@{room.moderator.username}</strong> dismissed the flags on" in panels
    changelist = admin_client.get(reverse("admin:posts_auditentry_changelist")).content.decode()
    assert "held back on flags" in changelist and "dismissed the flags on" in changelist


def test_approving_a_post_the_flags_held_back_dismisses_its_flags(room) -> None:  # type: ignore[no-untyped-def]
    from jamhost.posts.post_moderation import post_approve

    room.jam.flag_threshold = 2
    room.jam.save(update_fields=["flag_threshold"])
    post = room.question("Is this really spam?")
    flag_add(post_id=post.pk, user=room.others[0], reason="spam")
    held, _ = flag_add(post_id=post.pk, user=room.others[1], reason="spam")
    assert held.status == PostStatus.PENDING
    outcome = post_approve(jam=room.jam, actor=room.moderator, post_id=post.pk)
    assert outcome.changed and outcome.post is not None
    assert outcome.post.status == PostStatus.VISIBLE and outcome.post.flags == 0
    approved = Post.objects.get(pk=post.pk)
    assert approved.flags == 0 and approved.rev > held.rev
    assert not Flag.objects.filter(post=post, dismissed_at__isnull=True).exists()
    assert Flag.objects.filter(post=post, dismissed_by=room.moderator).count() == 2
    assert list(
        AuditEntry.objects.filter(post=post).order_by("pk").values_list("action", flat=True)
    ) == [
        "flagged",
        "approve",
        "unflagged",
    ]
    assert flagged_posts(jam=room.jam) == []
    # One new flag is one flag, not the third of an old count.
    again, _ = flag_add(post_id=post.pk, user=room.others[2], reason="spam")
    assert again.status == PostStatus.VISIBLE and again.flags == 1


def test_restoring_a_flagged_post_dismisses_its_flags(room) -> None:  # type: ignore[no-untyped-def]
    from jamhost.posts.post_moderation import post_hide, post_restore

    room.jam.flag_threshold = 2
    room.jam.save(update_fields=["flag_threshold"])
    post = room.question("Hidden by mistake?")
    flag_add(post_id=post.pk, user=room.others[0], reason="spam")
    post_hide(jam=room.jam, actor=room.moderator, post_id=post.pk)
    outcome = post_restore(jam=room.jam, actor=room.moderator, post_id=post.pk)
    assert outcome.changed and outcome.post is not None
    assert outcome.post.status == PostStatus.VISIBLE and outcome.post.flags == 0
    assert not Flag.objects.filter(post=post, dismissed_at__isnull=True).exists()
    assert AuditEntry.objects.filter(post=post, action="unflagged").exists()
    # One new flag is one flag: the post stays up.
    again, _ = flag_add(post_id=post.pk, user=room.others[1], reason="spam")
    assert again.status == PostStatus.VISIBLE and again.flags == 1
    # Restoring a post nobody flagged leaves no flag trail.
    other = room.question("Nothing wrong here?")
    post_hide(jam=room.jam, actor=room.moderator, post_id=other.pk)
    post_restore(jam=room.jam, actor=room.moderator, post_id=other.pk)
    assert not AuditEntry.objects.filter(post=other, action="unflagged").exists()


@override_settings(AUDIENCE_FLAGS_PER_MINUTE=1)
def test_a_refused_flag_does_not_use_up_the_budget(room) -> None:  # type: ignore[no-untyped-def]
    """Only flags that go through are counted: a refusal for another reason leaves the
    person's budget, a repeat counts."""
    posts = [room.answer(f"answer {i}") for i in range(2)]
    flagger = room.others[0]
    with pytest.raises(ValidationError, match="Pick why"):
        flag_add(post_id=posts[0].pk, user=flagger, reason="boring")
    assert flag_add(post_id=posts[0].pk, user=flagger, reason="spam")[1]
    with pytest.raises(ValidationError, match=r"a lot of flags at once \(1 per 60 s\)"):
        flag_add(post_id=posts[1].pk, user=flagger, reason="spam")
    assert Post.objects.get(pk=posts[1].pk).flags == 0
