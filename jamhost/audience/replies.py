"""Side conversations: a reply is a post with `reply_to` set. It is stored through
posts.services.post_insert like every other post, so it gets the jam's next seq and rev,
arrives live, and follows the same moderation rules (blocked authors, muted words,
pre-moderation).

On X a reply is published as a standalone post with the jam's hashtag that quotes
nothing: X refuses API replies to accounts that did not mention the replying account.
It mentions the original author only when that author is in the jam on X (they posted in
it from X, or their jamhost account has X linked), so nobody outside the jam is pinged.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from jamhost.audience.rules import post_in_jam, require_live, require_signed_in
from jamhost.jams.models import Jam
from jamhost.jams.permissions import jam_role
from jamhost.networks.models import XAccount
from jamhost.posts.compose import characters_refused, compose_text, is_blank, text_rules_for
from jamhost.posts.models import AuthorRole, Post, PostStatus, Source
from jamhost.posts.moderation import author_is_blocked
from jamhost.posts.services import MAX_BODY_CHARS, post_store_composed


def mention_for(parent: Post) -> str | None:
    """The X handle a reply to `parent` may mention, or None (see the module docstring)."""
    if author_is_blocked(jam=parent.jam, author_key=parent.author_key):
        return None
    if parent.source == Source.X:
        return parent.author_handle
    if parent.source == Source.APP and parent.author_id is not None:
        account = (
            XAccount.objects.filter(user_id=parent.author_id, revoked_at__isnull=True)
            .values_list("username", flat=True)
            .first()
        )
        return account or None
    return None


def _thread_for(*, jam: Jam, parent: Post) -> Post:
    """The post a reply to `parent` is threaded under, or a refusal."""
    if parent.status != PostStatus.VISIBLE:
        raise ValidationError(
            "This post is not shown in the jam (it is hidden or waiting for a moderator), "
            "so it cannot be replied to."
        )
    if parent.reply_to_id is not None:
        # One level of threads: a reply to a reply joins the same side conversation.
        root = post_in_jam(post_id=parent.reply_to_id, jam_id=jam.pk)
        if root.status != PostStatus.VISIBLE:
            raise ValidationError(
                "The post this conversation started from is no longer shown, so it takes no "
                "more replies."
            )
        return root
    return parent


def reply_compose(
    *, jam: Jam, user: Any, parent_id: int, body: str, client_key: str | None = None
) -> Post:
    """Reply to a visible post of this jam. The reply is threaded under the conversation's
    first post (a reply to a reply joins its thread) and mentions the author replied to
    when they are in the jam on X. With a `client_key` a resent form returns the reply
    already stored. Raises ValidationError (with a "body" field where one applies) or
    PermissionDenied for anything it refuses."""
    require_signed_in(user, "reply")
    # PostgreSQL text cannot hold NUL: refuse it plainly instead of failing on insert.
    if "\x00" in body:
        raise ValidationError({"body": "Your reply contains a NUL character. Remove it."})
    rules = text_rules_for(jam=jam, user=user)
    refused = characters_refused(rules, body, "reply")
    if refused:
        raise ValidationError({"body": refused})
    if client_key and "\x00" in client_key:
        client_key = None
    if client_key:
        existing = Post.objects.filter(jam=jam, client_key=client_key).first()
        if existing is not None:
            return existing
    jam.refresh_from_db(fields=["status", "moderation_mode", "muted_words"])
    require_live(jam, "reply")
    if len(body) > MAX_BODY_CHARS:
        raise ValidationError(
            {"body": f"This reply is far over the limit ({len(body)} characters)."}
        )
    if is_blank(body):
        raise ValidationError({"body": "Write something before replying."})
    replied = post_in_jam(post_id=parent_id, jam_id=jam.pk)
    thread = _thread_for(jam=jam, parent=replied)
    handle = mention_for(replied)
    body = body.strip()
    if handle and not body.lower().startswith(f"@{handle.lower()}"):
        body_for_text = f"@{handle} {body}"
    else:
        body_for_text = body
    composed = compose_text(
        body=body_for_text, hashtag=jam.hashtag, question_number=None, rules=rules
    )
    refusal = composed.refusal("reply")
    if refusal:
        raise ValidationError({"body": refusal})
    role = jam_role(user=user, jam=jam) or AuthorRole.PARTICIPANT
    # As ingest does for replies on X: the thread stays with its question.
    return post_store_composed(
        jam=jam,
        user=user,
        body=body,
        text=composed.text,
        author_role=role,
        question=thread.question,
        client_key=client_key,
        reply_to=thread,
    )
