"""A person's own data: downloading their posts, and deleting their account.

Deletion policy (stated on the deletion page): the account, its sessions and its sign-in
are removed at once; posts it made stay in their jams' records but are shown as a deleted
user — no name, no handle, no link back — live, in replays and in archived transcripts
(an archived jam gets a new transcript version that supersedes the old one).
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jamhost.audience.flags import flags_forget_user
from jamhost.audience.follows import follow_ups_export, follow_ups_forget_author
from jamhost.audience.votes import votes_forget_user
from jamhost.jams.counters import jam_next_rev
from jamhost.jams.models import Jam, JamStatus
from jamhost.live.publish import post_changed_on_commit
from jamhost.posts.models import Post

log = logging.getLogger(__name__)

DELETED_HANDLE = "deleted"
DELETED_NAME = "Deleted user"
EXPORT_FORMAT = "jamhost-posts/1"


def account_posts_export(*, user: Any) -> dict[str, Any]:
    """Every post the user made, oldest first, with its jam: what they may take away."""
    posts = (
        Post.objects.filter(author_id=user.pk)
        .select_related("jam", "question")
        .order_by("created_at", "pk")
    )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "user": {"username": user.get_username(), "display_name": user.get_full_name()},
        "posts": [
            {
                "jam": {"slug": p.jam.slug, "title": p.jam.title, "hashtag": p.jam.hashtag},
                "seq": p.seq,
                "question": p.question.number if p.question else None,
                "body": p.body,
                "text": p.text,
                "status": p.status,
                "created_at": p.created_at.isoformat(),
                "network_post_id": p.network_post_id,
            }
            for p in posts
        ],
        "follow_ups": follow_ups_export(user=user),
    }


def account_delete(*, user: Any, password: str) -> int:
    """Delete the account after checking its password; returns how many posts were
    anonymised. The upvote and flag counts of posts the user voted on or flagged are
    recounted in the same transaction. Raises ValidationError when the password is wrong."""
    if not user.check_password(password):
        raise ValidationError({"password": "That is not your password; nothing was deleted."})
    hosted = Jam.objects.filter(host_id=user.pk).count()
    if hosted:
        raise ValidationError(
            f"You host {hosted} jam{'s' if hosted != 1 else ''}: a jam needs its host, so "
            "ask staff to hand them to someone else before deleting your account."
        )
    user_model = get_user_model()
    with transaction.atomic():
        # Jam rows first, in id order, as every post writer does: no deadlock with them.
        jam_ids = sorted(
            set(Post.objects.filter(author_id=user.pk).values_list("jam_id", flat=True))
        )
        count = 0
        for jam_id in jam_ids:
            for post in Post.objects.filter(jam_id=jam_id, author_id=user.pk).order_by("seq"):
                _, rev = jam_next_rev(jam_id=jam_id)
                post.author = None
                post.author_key = f"deleted:{post.pk}"
                post.author_handle = DELETED_HANDLE
                post.author_name = DELETED_NAME
                post.author_avatar_url = ""
                post.rev = rev
                post.save(
                    update_fields=[
                        "author",
                        "author_key",
                        "author_handle",
                        "author_name",
                        "author_avatar_url",
                        "rev",
                        "updated_at",
                    ]
                )
                post_changed_on_commit(post)
                count += 1
        # Their votes and flags go with the account (before the cascade would drop them
        # without a word), and the counts on every screen follow.
        votes_forget_user(user_id=user.pk)
        flags_forget_user(user_id=user.pk)
        follow_ups_forget_author(author_key=f"app:{user.pk}")
        # Its other sessions die with it: a session whose user is gone is anonymous.
        user_model.objects.filter(pk=user.pk).delete()
        archived = list(
            Jam.objects.filter(pk__in=jam_ids, status=JamStatus.ARCHIVED).values_list(
                "pk", flat=True
            )
        )
        transaction.on_commit(lambda: _supersede_transcripts(archived))
    return count


def _supersede_transcripts(jam_ids: list[int]) -> None:
    """Archived transcripts are immutable: a new version (the old one kept) shows the
    deleted user. Done by the archive task (idempotent, acknowledged late, so a worker
    that dies mid-run hands it back); a failure to enqueue is logged, never raised, and
    the old version stays until the jam is archived again."""
    from jamhost.transcripts.tasks import archive_jam

    for jam_id in jam_ids:
        try:
            archive_jam.delay(jam_id)
        except Exception:
            log.exception("could not supersede the transcript of jam %s", jam_id)
