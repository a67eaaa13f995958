"""Writes to posts. Every post, whatever its source, goes through post_insert: it takes
the jam's next seq and rev inside the transaction and publishes to live screens only
after commit."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from jamhost.core import events
from jamhost.core.text_rules import TextRule
from jamhost.jams.counters import jam_next_rev
from jamhost.jams.models import Jam, JamStatus, Membership, ModerationMode, Question, Role
from jamhost.jams.permissions import role_from_membership
from jamhost.posts.compose import characters_refused, compose_text, is_blank, text_rules_for
from jamhost.posts.models import (
    AuthorRole,
    Kind,
    Post,
    PostStatus,
    Source,
    app_author_key,
)
from jamhost.posts.moderation import BLOCKED_REASON, author_is_blocked
from jamhost.prepared import PreparedInsert

MAX_BODY_CHARS = 4000
_POST_INSERT: PreparedInsert[Post] = PreparedInsert(Post)
AUTO = "auto"


def question_default(*, jam: Jam, role: str | None) -> Question | None:
    """The question a post answers when its author leaves the choice on "auto": only the
    host's and panelists' posts follow the current question."""
    return jam.current_question if role in (Role.HOST, Role.PANELIST) else None


def author_key_for_user(user: Any) -> str:
    return app_author_key(user.pk)


def elsewhere_for(*, user: Any) -> dict[str, dict[str, str]]:
    """Where a new post by `user` goes, as post.elsewhere starts: the networks app answers
    (every network the post is queued for); a post stays local when nobody does."""
    found: dict[str, dict[str, str]] = {}
    for answer in events.send(events.ElsewhereAsked(user=user)):
        found.update(answer)
    return found


def publication_request(*, post: Post) -> None:
    """Hand a just-stored post to the networks its author posts to (inside the caller's
    transaction; the networks app sends it after commit)."""
    events.send(events.PublicationWanted(post=post))


def status_for_new_post(
    *, jam: Jam, author_role: str, author_key: str, text: str
) -> tuple[str, str]:
    """The status a new post arrives with, and why, under the jam's moderation rules."""
    if author_is_blocked(jam=jam, author_key=author_key):
        return PostStatus.HIDDEN, BLOCKED_REASON
    if author_role in (AuthorRole.HOST, AuthorRole.PANELIST):
        return PostStatus.VISIBLE, ""
    lowered = text.lower()
    for word in jam.muted_word_list():
        # Whole words and phrases only: "ass" must not hold back "class".
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, word.split())) + r"(?!\w)"
        if re.search(pattern, lowered):
            return PostStatus.PENDING, f"muted word “{word}”"
    if post_held_for_approval(jam=jam, author_role=author_role):
        return PostStatus.PENDING, "pre-moderation"
    return PostStatus.VISIBLE, ""


def post_held_for_approval(*, jam: Jam, author_role: str | None) -> bool:
    """Whether a new post by someone in this role waits for a moderator's approval (and
    so for X) in this jam: pre-moderation holds everyone's but the host's and panelists'."""
    return jam.moderation_mode == ModerationMode.PRE and author_role not in (
        AuthorRole.HOST,
        AuthorRole.PANELIST,
    )


def post_insert(
    *,
    jam: Jam,
    body: str,
    text: str,
    author_role: str,
    author: Any = None,
    author_key: str | None = None,
    author_handle: str | None = None,
    author_name: str | None = None,
    author_avatar_url: str = "",
    kind: str = Kind.POST,
    question: Question | None = None,
    source: str = Source.APP,
    external_id: str | None = None,
    client_key: str | None = None,
    status: str | None = None,
    status_reason: str = "",
    now: datetime | None = None,
    links: Sequence[str] = (),
    metrics: dict[str, Any] | None = None,
    lang: str = "",
    reply_to: Post | None = None,
    elsewhere: dict[str, Any] | None = None,
    remote_url: str = "",
    author_url: str = "",
    header_changed: bool = False,
) -> Post:
    """Store a post with the jam's next seq and rev; publish it to screens after commit.

    Runs in (or opens) a transaction. The caller has validated what it is inserting.
    Inside a caller's transaction it takes no savepoint of its own (two round trips
    fewer while the jam's row is locked): an error here fails the caller's whole
    transaction, so a caller that wants to go on after one wraps the call in atomic().
    """
    with transaction.atomic(savepoint=False):
        if author is not None:
            author_key = author_key or author_key_for_user(author)
            author_handle = author_handle or author.get_username()
            author_name = author_name if author_name is not None else author.get_full_name()
        if not author_key or not author_handle:
            raise ValueError("a post needs an author key and handle")
        seq, rev = jam_next_rev(jam_id=jam.pk, new_post=True, header_changed=header_changed)
        if status is None:
            # Decided under the jam row lock jam_next_rev just took, which moderation
            # actions take too: a block committed a moment ago is seen, and a block in
            # progress waits for this post and then hides it.
            status, status_reason = status_for_new_post(
                jam=jam, author_role=author_role, author_key=author_key, text=text
            )
        jam.last_seq, jam.rev = seq, rev
        if header_changed:
            jam.header_rev = rev
        post = Post(
            jam=jam,
            seq=seq,
            rev=rev,
            kind=kind,
            question=question,
            author=author,
            author_key=author_key,
            author_handle=author_handle[:80],
            author_name=(author_name or "")[:120],
            author_avatar_url=author_avatar_url,
            author_role=author_role,
            body=body,
            text=text,
            source=source,
            external_id=external_id,
            client_key=client_key,
            status=status,
            status_reason=status_reason[:200],
            created_at=now or timezone.now(),
            links=list(links),
            metrics=metrics or {},
            lang=lang,
            reply_to=reply_to,
            elsewhere=elsewhere or {},
            remote_url=remote_url[:500],
            author_url=author_url[:500],
        )
        _POST_INSERT.save(post)  # Post.objects.create's INSERT, compiled once
        events.send_on_commit(
            events.PostChanged(post=post, rev=post.rev, header_jam=jam if header_changed else None)
        )
    return post


def _question_for(jam: Jam, number: int | None) -> Question | None:
    if number is None:
        return None
    question = jam.questions.filter(number=number).first()
    if question is None:
        raise ValidationError(
            {"question": f"There is no Q{number} in this jam. Pick a released question or none."}
        )
    if not question.is_released:
        raise ValidationError(
            {"question": f"Q{number} has not been released yet; answer it once it is out."}
        )
    return question


def _compose_state(
    *, jam_id: int, user_id: int, client_key: str | None
) -> tuple[str, int | None, str, str, str | None, int | None]:
    """(status, current question id, moderation mode, muted words, the user's membership
    role, the id of a post an earlier send of this form stored) in one round trip.

    Plain SQL: as a queryset with two subqueries this one read cost more CPU than the
    rest of the compose POST's queries together (Django compiles it on every call).
    The membership role is jam_role's (jams.permissions), host rule applied after."""
    jam_table, membership_table, post_table = (
        Jam._meta.db_table,
        Membership._meta.db_table,
        Post._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT j.status, j.current_question_id, j.moderation_mode, j.muted_words, "  # noqa: S608
            f"(SELECT m.role FROM {membership_table} m WHERE m.jam_id = j.id "
            "AND m.user_id = %s ORDER BY m.id LIMIT 1), "
            f"(SELECT p.id FROM {post_table} p WHERE p.jam_id = j.id "
            "AND p.client_key = %s LIMIT 1) "
            f"FROM {jam_table} j WHERE j.id = %s",
            [user_id, client_key, jam_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Jam.DoesNotExist(f"jam {jam_id} does not exist")
    return row[0], row[1], row[2], row[3], row[4], row[5]


@dataclass(frozen=True)
class PostSent:
    post: Post
    # True when an earlier send of the same form (same client_key) stored the post: a
    # resend after a timeout, or a double click.
    stored_before: bool


def post_compose(
    *,
    jam: Jam,
    user: Any,
    body: str,
    question_number: int | str | None = AUTO,
    client_key: str | None = None,
) -> Post:
    """post_send's post."""
    return post_send(
        jam=jam, user=user, body=body, question_number=question_number, client_key=client_key
    ).post


def post_send(
    *,
    jam: Jam,
    user: Any,
    body: str,
    question_number: int | str | None = AUTO,
    client_key: str | None = None,
    rules: Sequence[TextRule] | None = None,
) -> PostSent:
    """Post from the compose box: prefix "A{n}: ", append the hashtag, check the text
    against every network rule that applies (`rules`, when the caller has them already:
    posts.compose.text_rules_for(jam, user)), the limit that binds named when it is over.

    `question_number` is a released question's number, None for no prefix, or AUTO for
    the current question when the author is the host or a panelist. With a `client_key`
    a resent form returns the post already stored instead of posting twice (with
    `stored_before`), even once the jam has ended.
    Raises ValidationError (with a field where one applies) for anything it refuses.
    """
    if user is None or not user.is_authenticated:
        raise ValidationError("Sign in to post.")
    # PostgreSQL text cannot hold NUL: refuse it plainly instead of failing on insert.
    if "\x00" in body:
        raise ValidationError(
            {"body": "Your post contains a NUL character, which cannot be posted. Remove it."}
        )
    rules = text_rules_for(jam=jam, user=user) if rules is None else rules
    refused = characters_refused(rules, body)
    if refused:
        raise ValidationError({"body": refused})
    if client_key and "\x00" in client_key:
        raise ValidationError("This form is damaged; reload the page and post again.")
    state = _compose_state(jam_id=jam.pk, user_id=user.pk, client_key=client_key)
    status, current_question_id, mode, muted_words, membership_role, sent_before = state
    if sent_before is not None:
        return PostSent(post=Post.objects.get(pk=sent_before), stored_before=True)
    # What refresh_from_db would set (a changed current question drops the cached one).
    jam.status, jam.current_question_id = status, current_question_id
    jam.moderation_mode, jam.muted_words = mode, muted_words
    if jam.status != JamStatus.LIVE:
        when = {
            JamStatus.DRAFT: "it is still a draft",
            JamStatus.SCHEDULED: f"it starts at {jam.starts_at:%Y-%m-%d %H:%M} UTC",
            JamStatus.ENDED: "it has ended",
            JamStatus.ARCHIVED: "it has ended",
        }[JamStatus(jam.status)]
        raise ValidationError(f"This jam is not live, so posting is closed: {when}.")
    if len(body) > MAX_BODY_CHARS:
        raise ValidationError(
            {"body": f"This post is far over the limit ({len(body)} characters). Shorten it."}
        )
    if is_blank(body):
        raise ValidationError({"body": "Write something before posting."})
    role = (
        role_from_membership(user=user, jam=jam, membership_role=membership_role)
        or AuthorRole.PARTICIPANT
    )
    current = None
    if question_number == AUTO:
        current = question_default(jam=jam, role=role)
        number = current.number if current else None
    else:
        number = int(question_number) if question_number not in (None, "") else None
    composed = compose_text(body=body, hashtag=jam.hashtag, question_number=number, rules=rules)
    refusal = composed.refusal()
    if refusal:
        raise ValidationError({"body": refusal})
    if current is not None and composed.question_number == current.number:
        question: Question | None = current  # released: it is the current question
    else:
        question = _question_for(jam, composed.question_number)
    post, stored_before = _store_composed(
        jam=jam,
        user=user,
        body=body.strip(),
        text=composed.text,
        author_role=role,
        question=question,
        client_key=client_key,
    )
    return PostSent(post=post, stored_before=stored_before)


def post_store_composed(
    *,
    jam: Jam,
    user: Any,
    body: str,
    text: str,
    author_role: str,
    question: Question | None,
    client_key: str | None,
    reply_to: Post | None = None,
) -> Post:
    """Store a validated post from a compose box once, and queue it for X after commit
    when the author has a linked account. A form resent at the same moment (same
    client_key) returns the post the first one stored."""
    post, _stored_before = _store_composed(
        jam=jam,
        user=user,
        body=body,
        text=text,
        author_role=author_role,
        question=question,
        client_key=client_key,
        reply_to=reply_to,
    )
    return post


def _store_composed(
    *,
    jam: Jam,
    user: Any,
    body: str,
    text: str,
    author_role: str,
    question: Question | None,
    client_key: str | None,
    reply_to: Post | None = None,
) -> tuple[Post, bool]:
    """post_store_composed, and whether the post was stored by an earlier send."""
    try:
        with transaction.atomic():
            post = post_insert(
                jam=jam,
                body=body,
                text=text,
                author=user,
                author_role=author_role,
                question=question,
                client_key=client_key,
                reply_to=reply_to,
                elsewhere=elsewhere_for(user=user),
            )
            publication_request(post=post)  # published to X after commit
        return post, False
    except IntegrityError:
        # The same form arrived twice at once: the first one stored it.
        existing = Post.objects.filter(jam=jam, client_key=client_key).first()
        if client_key and existing is not None:
            return existing, True
        raise
