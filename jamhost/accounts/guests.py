"""Guests: people who post in a jam without an account, when its host allows it.

A guest is a display name held in one browser session. Their posts carry the author key
"guest:<id>", are marked "guest" wherever a post is shown, are held for moderation
unless the host chose otherwise, and never go to X. A name that looks like one of the
jam's people's (case, width and look-alike letters folded) is refused. A guest can take
back their own posts while their session lasts.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from jamhost.accounts.models import Guest, GuestPolicy
from jamhost.jams.counters import jam_next_rev
from jamhost.jams.hashtags import hashtag_key
from jamhost.jams.models import Jam, JamStatus
from jamhost.jams.permissions import can_edit
from jamhost.live.publish import post_changed_on_commit
from jamhost.posts.compose import characters_refused, compose_text, is_blank, text_rules_for
from jamhost.posts.models import (
    WITHDRAWN_REASON,
    AuditEntry,
    AuthorRole,
    ModerationAction,
    Post,
    PostStatus,
)
from jamhost.posts.moderation import author_is_blocked
from jamhost.posts.services import MAX_BODY_CHARS, post_insert

MAX_NAME_CHARS = 40
HELD_REASON = "guest post"


def guest_policy(*, jam: Jam) -> GuestPolicy | None:
    """The jam's guest policy when guests are allowed, else None."""
    return GuestPolicy.objects.filter(jam=jam, enabled=True).first()


def guests_set(*, jam: Jam, actor: Any, enabled: bool, hold_for_moderation: bool) -> GuestPolicy:
    """The host turns guests on or off and chooses whether their posts wait for approval."""
    if not can_edit(user=actor, jam=jam):
        raise PermissionDenied("Only the jam's host can let guests post.")
    policy, _ = GuestPolicy.objects.update_or_create(
        jam=jam, defaults={"enabled": enabled, "hold_for_moderation": hold_for_moderation}
    )
    return policy


def name_skeleton(name: str) -> str:
    """A name as it looks: case, width, look-alike letters of other scripts, spaces and
    punctuation folded: "pat.panel" = "PATPANEL" = the same in Greek capitals that look Latin."""
    # Accents dropped too: "Zoë" passes for "Zoe" at a glance.
    folded = unicodedata.normalize("NFD", hashtag_key(name.lstrip("@")))
    return "".join(ch for ch in folded if ch.isalnum())


def _people_skeletons(jam: Jam) -> set[str]:
    users = [jam.host, *(m.user for m in jam.memberships.select_related("user"))]
    names: set[str] = set()
    for user in users:
        for name in (user.get_username(), user.get_full_name(), user.first_name):
            skeleton = name_skeleton(name or "")
            if skeleton:
                names.add(skeleton)
    return names


def _clean_name(raw: str, jam: Jam) -> str:
    name = " ".join((raw or "").split())
    if not name or is_blank(name):
        raise ValidationError({"display_name": "Enter the name to show with your posts."})
    if len(name) > MAX_NAME_CHARS:
        raise ValidationError(
            {"display_name": f"Keep your name to {MAX_NAME_CHARS} characters ({len(name)} now)."}
        )
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cs"} for ch in name):
        raise ValidationError(
            {"display_name": "Your name holds invisible or control characters. Remove them."}
        )
    refused = characters_refused(text_rules_for(jam=jam, user=None), name, "name")
    if refused:
        raise ValidationError({"display_name": refused})
    if not name_skeleton(name):
        raise ValidationError({"display_name": "Use at least one letter or digit in your name."})
    return name


def guest_join(*, jam: Jam, display_name: str, address: str | None = None) -> Guest:
    """Start posting as a guest in `jam`. Refused when the host does not allow guests,
    the jam is over, or the name looks like the name of the jam's host or one of its
    people (ValidationError worded for the guest)."""
    if guest_policy(jam=jam) is None:
        raise ValidationError("This jam's host has not opened it to guests. Sign up to post.")
    if jam.is_over:
        raise ValidationError("This jam has ended, so posting is closed.")
    name = _clean_name(display_name, jam)
    skeleton = name_skeleton(name)
    for taken in _people_skeletons(jam):
        if skeleton == taken or (len(taken) >= 4 and taken in skeleton):
            raise ValidationError(
                {
                    "display_name": f"“{name}” looks like the name of this jam's host or one of "
                    "its panelists or moderators. Pick a name of your own."
                }
            )
    return Guest.objects.create(jam=jam, display_name=name, name_key=skeleton, address=address)


def guest_post(*, guest: Guest, body: str, client_key: str | None = None) -> Post:
    """A guest's post: the hashtag added, X's length checked, stored as a participant's
    post marked as a guest's, held for approval when the host chose so; never sent to X.
    A form sent twice with the same `client_key` stores one post."""
    jam = Jam.objects.get(pk=guest.jam_id)
    policy = guest_policy(jam=jam)
    if policy is None:
        raise ValidationError("This jam's host has closed it to guests.")
    if jam.status != JamStatus.LIVE:
        raise ValidationError("This jam is not live, so posting is closed.")
    if "\x00" in body:
        raise ValidationError({"body": "Your post contains a NUL character. Remove it."})
    rules = text_rules_for(jam=jam, user=None)
    refused = characters_refused(rules, body)
    if refused:
        raise ValidationError({"body": refused})
    if len(body) > MAX_BODY_CHARS or is_blank(body):
        raise ValidationError({"body": "Write something (within the limit) before posting."})
    composed = compose_text(body=body, hashtag=jam.hashtag, question_number=None, rules=rules)
    refusal = composed.refusal()
    if refusal:
        raise ValidationError({"body": refusal})
    key = f"g{guest.pk}-{(client_key or '')[:40]}" if client_key else None
    if key and "\x00" in key:
        raise ValidationError("This form is damaged; reload the page and post again.")
    if key:
        existing = Post.objects.filter(jam=jam, client_key=key).first()
        if existing is not None:
            return existing
    status, reason = None, ""
    if policy.hold_for_moderation and not author_is_blocked(jam=jam, author_key=guest.author_key):
        status, reason = PostStatus.PENDING, HELD_REASON
    return post_insert(
        jam=jam,
        body=body.strip(),
        text=composed.text,
        author_role=AuthorRole.PARTICIPANT,
        author_key=guest.author_key,
        author_handle=f"guest{guest.pk}",
        author_name=guest.display_name,
        client_key=key,
        status=status,
        status_reason=reason,
    )


def guest_post_withdraw(*, guest: Guest, post_id: int) -> Post:
    """Hide one of the guest's own posts for everyone, with an audit entry. Idempotent."""
    with transaction.atomic():
        _, rev = jam_next_rev(jam_id=guest.jam_id)  # the jam row lock, as moderation takes it
        post = (
            Post.objects.select_for_update()
            .filter(pk=post_id, jam_id=guest.jam_id, author_key=guest.author_key)
            .first()
        )
        if post is None:
            raise ValidationError("That is not one of your posts in this jam.")
        if post.status == PostStatus.HIDDEN and post.status_reason == WITHDRAWN_REASON:
            return post
        before = {"status": post.status, "status_reason": post.status_reason}
        post.status, post.status_reason, post.rev = PostStatus.HIDDEN, WITHDRAWN_REASON, rev
        post.save(update_fields=["status", "status_reason", "rev", "updated_at"])
        AuditEntry.objects.create(
            jam_id=guest.jam_id,
            post=post,
            author_key=post.author_key,
            author_handle=post.author_handle,
            actor=None,
            actor_handle=f"{guest.display_name} (guest)"[:150],
            action=ModerationAction.WITHDRAW,
            before=before,
            after={"status": post.status, "status_reason": post.status_reason},
            created_at=timezone.now(),
        )
        post_changed_on_commit(post)
    return post


def guest_posts(*, guest: Guest) -> list[Post]:
    """The guest's posts not taken back, newest first."""
    return list(
        Post.objects.filter(jam_id=guest.jam_id, author_key=guest.author_key)
        .exclude(status_reason=WITHDRAWN_REASON)
        .order_by("-seq")[:20]
    )
