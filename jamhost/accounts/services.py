"""A person's own data: downloading their posts, and deleting their account.

Deletion (stated on the account page, per jam): the account, its sessions and its sign-in
are removed at once. What becomes of the posts it made is each jam host's choice
(Jam.deleted_author_policy, stated on the jam's pages), read at the moment of deletion:

- anonymize: the posts stay in the jam's record, shown as a deleted user — no name, no
  handle, no picture — live, in replays and in archived transcripts;
- remove: the posts are taken out of the jam: hidden, and their words (body, text, links)
  blanked, so no viewer, replay or transcript shows them and no moderator can show them
  again. The rows stay, so the jam's seq numbers stay gap-free.

Either way, an archived jam gets a new transcript version that supersedes the old one
(which is kept).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from jamhost.audience.flags import flags_forget_user
from jamhost.audience.follows import follow_ups_export, follow_ups_forget_author
from jamhost.audience.votes import votes_forget_user
from jamhost.jams.counters import jam_next_rev
from jamhost.jams.models import DeletedAuthorPolicy, Jam, JamStatus, Rsvp
from jamhost.live.publish import post_changed_on_commit
from jamhost.polls.services import poll_votes_forget_user
from jamhost.posts.models import (
    AUTHOR_DELETED_REASON,
    DELETED_AUTHOR_PREFIX,
    AnswerDraft,
    Post,
    PostStatus,
    app_author_key,
)
from jamhost.transcripts.tasks import archive_jam

log = logging.getLogger(__name__)

DELETED_HANDLE = "deleted"
DELETED_NAME = "Deleted user"
EXPORT_FORMAT = "jamhost-posts/1"

_AUTHOR_FIELDS = ["author", "author_key", "author_handle", "author_name", "author_avatar_url"]
_REMOVAL_FIELDS = [
    "status",
    "status_reason",
    "pinned",
    "featured",
    "body",
    "text",
    "links",
    "metrics",
    "lang",
]


@dataclass(frozen=True)
class AccountDeleted:
    """What deleting an account did to its posts, by the policy of each post's jam."""

    anonymized: int
    removed: int


def account_posts_export(*, user: Any) -> dict[str, Any]:
    """Every post the user made, oldest first, with its jam: what they may take away."""
    posts = (
        Post.objects.filter(author_id=user.pk)
        .select_related("jam", "question", "on_x")
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
                # The X post it was published as (networks.XPost), if any.
                "network_post_id": getattr(getattr(p, "on_x", None), "x_id", None),
            }
            for p in posts
        ],
        "follow_ups": follow_ups_export(user=user),
        # Answers drafted ahead and not sent (a sent one is among the posts).
        "answer_drafts": [
            {
                "jam": d.question.jam.slug,
                "question": d.question.number,
                "body": d.body,
                "send_on_release": d.send_on_release,
            }
            for d in AnswerDraft.objects.filter(author_id=user.pk, sent_at__isnull=True)
            .select_related("question__jam")
            .order_by("pk")
        ],
        "reminders": [
            {"jam": r.jam.slug, "email": r.email, "unsubscribed": r.unsubscribed_at is not None}
            for r in Rsvp.objects.filter(user_id=user.pk).select_related("jam").order_by("pk")
        ],
    }


def account_delete(*, user: Any, password: str) -> AccountDeleted:
    """Delete the account after checking its password, and treat each post it made by
    its jam's deletion policy as it stands now (see the module docstring); returns how
    many posts were anonymised and how many removed.

    All in one transaction: jam rows are taken in id order (as every post writer does),
    each changed post gets its own rev and is pushed to every screen after commit; the
    upvote and flag counts of posts the user voted on or flagged are recounted, their
    follow-ups forgotten. Archived jams get a new transcript version after commit (see
    _supersede_transcripts). Raises ValidationError when the password is wrong or the
    user hosts a jam; nothing is changed then."""
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
        jam_ids = sorted(
            set(Post.objects.filter(author_id=user.pk).values_list("jam_id", flat=True))
        )
        # Every jam row this changes — where the user posted, voted or flagged — locked
        # now, in id order, as every post writer takes them: another deletion (or a
        # writer) touching the same jams waits its turn instead of waiting in a circle.
        touched = Post.objects.filter(
            Q(author_id=user.pk) | Q(votes__user_id=user.pk) | Q(flag_set__user_id=user.pk)
        ).values("jam_id")
        locked = list(
            Jam.objects.select_for_update()
            .filter(pk__in=touched)
            .order_by("pk")
            .values_list("pk", "deleted_author_policy", "status")
        )
        policies = {pk: policy for pk, policy, _ in locked}
        anonymized = removed = 0
        for jam_id in jam_ids:
            remove = policies[jam_id] == DeletedAuthorPolicy.REMOVE
            for post in Post.objects.filter(jam_id=jam_id, author_id=user.pk).order_by("seq"):
                _, post.rev = jam_next_rev(jam_id=jam_id)
                _anonymize(post)
                if remove:
                    _remove(post)
                    removed += 1
                else:
                    anonymized += 1
                fields = [*_AUTHOR_FIELDS, *(_REMOVAL_FIELDS if remove else []), "rev"]
                post.save(update_fields=[*fields, "updated_at"])
                post_changed_on_commit(post)
        # Their votes and flags go with the account (before the cascade would drop them
        # without a word), and the counts on every screen follow.
        votes_forget_user(user_id=user.pk)
        poll_votes_forget_user(user_id=user.pk)
        flags_forget_user(user_id=user.pk)
        follow_ups_forget_author(author_key=app_author_key(user.pk))
        # Reminders they asked for while signed in, or got as a panelist or moderator,
        # stop: the address goes with the account (the row would keep only the address).
        Rsvp.objects.filter(user_id=user.pk).delete()
        # Its other sessions die with it: a session whose user is gone is anonymous.
        user_model.objects.filter(pk=user.pk).delete()
        # Archived transcripts show names and counts: every archived jam touched gets a
        # new version, marked here so the archive sweep makes it if the task is lost.
        archived = [pk for pk, _, status in locked if status == JamStatus.ARCHIVED]
        Jam.objects.filter(pk__in=archived).update(transcript_outdated=True)
        transaction.on_commit(lambda: _supersede_transcripts(archived))
    return AccountDeleted(anonymized=anonymized, removed=removed)


def _anonymize(post: Post) -> None:
    post.author = None
    post.author_key = f"{DELETED_AUTHOR_PREFIX}{post.pk}"
    post.author_handle = DELETED_HANDLE
    post.author_name = DELETED_NAME
    post.author_avatar_url = ""


def _remove(post: Post) -> None:
    """Take the post out of its jam: hidden from viewers (and so from replays and
    transcripts, which hold visible posts only), and its words gone, so a moderator's
    console shows only that it was removed. external_id and its X post id (networks.XPost)
    stay: they stop the same post on X from being stored again."""
    post.status = PostStatus.HIDDEN
    post.status_reason = AUTHOR_DELETED_REASON
    post.pinned = post.featured = False
    post.body = post.text = post.lang = ""
    post.links = []
    post.metrics = {}


def _supersede_transcripts(jam_ids: list[int]) -> None:
    """Archived transcripts are immutable: a new version (the old one kept) shows the
    deleted user, or lacks the removed posts. Done by the archive task (idempotent,
    acknowledged late, so a worker that dies mid-run hands it back); a failure to enqueue
    is logged, never raised: the jam is marked transcript_outdated, and the archive
    sweep enqueues it again until a new version is stored."""
    for jam_id in jam_ids:
        try:
            archive_jam.delay(jam_id)
        except Exception:
            log.exception("could not supersede the transcript of jam %s", jam_id)
