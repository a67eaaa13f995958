"""Follow-ups: a participant marks people met in a jam to follow afterwards, and gets the
list (with where to find each one) at the end and in their data download."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from jamhost.audience.models import FollowUp
from jamhost.audience.rules import require_signed_in
from jamhost.audience.selectors import profile_url
from jamhost.jams.models import Jam, Membership, Role
from jamhost.posts.models import Kind, Post, PostStatus, Source
from jamhost.posts.services import author_key_for_user

MAX_FOLLOW_UPS = 500


def followup_add(*, jam: Jam, user: Any, author_key: str) -> tuple[FollowUp, bool]:
    """Mark someone who posted in the jam (or is on its panel) to follow up. Returns
    (follow-up, created); marking the same person twice keeps one."""
    require_signed_in(user, "keep a follow-up list")
    author_key = (author_key or "").strip()[:80]
    if not author_key or "\x00" in author_key:
        raise ValidationError("Pick someone from the people to follow.")
    if author_key == author_key_for_user(user):
        raise ValidationError("That is you. Mark the people you want to follow up.")
    sample = (
        Post.objects.filter(
            jam=jam, author_key=author_key, kind=Kind.POST, status=PostStatus.VISIBLE
        )
        .order_by("-seq")
        .first()
    )
    if sample is not None:
        from_x = Post.objects.filter(jam=jam, author_key=author_key, source=Source.X).exists()
        handle, name = sample.author_handle, sample.author_name
        url = profile_url(
            jam=jam,
            author_key=author_key,
            handle=handle,
            source=Source.X if from_x else sample.source,
            author_url=sample.author_url,
        )
    else:
        user_id = author_key.removeprefix("app:")
        member = (
            Membership.objects.filter(jam=jam, role=Role.PANELIST, user_id=user_id)
            .select_related("user")
            .first()
            if user_id.isdigit() and len(user_id) <= 18
            else None
        )
        if member is None:
            raise ValidationError("Nobody by that name has posted in this jam.")
        handle, name = member.user.get_username(), member.user.get_full_name()
        url = profile_url(jam=jam, author_key=author_key, handle=handle, source=Source.APP)
    existing = FollowUp.objects.filter(jam=jam, user=user, author_key=author_key).first()
    if existing is not None:
        return existing, False
    if FollowUp.objects.filter(user=user).count() >= MAX_FOLLOW_UPS:
        raise ValidationError(
            f"Your follow-up list is full ({MAX_FOLLOW_UPS} people). Remove some first."
        )
    try:
        with transaction.atomic():
            follow_up = FollowUp.objects.create(
                jam=jam,
                user=user,
                author_key=author_key,
                author_handle=handle[:80],
                author_name=(name or "")[:120],
                profile_url=url[:300],
                created_at=timezone.now(),
            )
    except IntegrityError:  # the same mark, sent twice at once
        return FollowUp.objects.get(jam=jam, user=user, author_key=author_key), False
    return follow_up, True


def followup_remove(*, jam: Jam, user: Any, author_key: str) -> bool:
    """Unmark someone; True when there was a mark to remove."""
    require_signed_in(user, "keep a follow-up list")
    if "\x00" in author_key:
        return False
    deleted, _ = FollowUp.objects.filter(jam=jam, user=user, author_key=author_key).delete()
    return bool(deleted)


def follow_ups_export(*, user: Any) -> list[dict[str, str]]:
    """The user's follow-up list for their data download, in the order marked."""
    from jamhost.audience.selectors import follow_ups_for

    return [
        {
            "jam": entry.jam.slug,
            "handle": entry.author_handle,
            "name": entry.author_name,
            "profile": entry.profile_url,
            "marked_at": entry.created_at.isoformat(),
        }
        for entry in follow_ups_for(user=user)
    ]


def follow_ups_forget_author(*, author_key: str) -> int:
    """Remove everyone's follow-up marks of an author whose account is being deleted:
    their handle and profile link must not outlive it. Returns how many were removed."""
    deleted, _ = FollowUp.objects.filter(author_key=author_key).delete()
    return deleted
