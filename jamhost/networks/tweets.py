"""Storing X posts in a jam, whichever path found them (recent search, the stream): one
jamhost post per X post per jam, an edit updating its post in place, a member's post
recognised as the publication of the jamhost post that sent it.

Text is stored as its author wrote it: X's `&amp;`, `&lt;`, `&gt;` unescaped once, t.co
links expanded. Anything odd in a post is skipped or stored with a logged reason.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from jamhost.jams.answers import answer_number
from jamhost.jams.models import Jam, Question
from jamhost.networks.lookup import CLOCK_SKEW
from jamhost.networks.models import Publication, XAccount, XPost, XStatus
from jamhost.networks.post_state import post_network_set
from jamhost.networks.x.text import same_text, tweet_text, tweet_versions
from jamhost.posts.models import AuthorRole, Post, Source
from jamhost.posts.services import MAX_BODY_CHARS, post_insert

log = logging.getLogger(__name__)

TWEET_ID = re.compile(r"^\d{1,20}$")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class PollResult:
    stored: int = 0
    duplicates: int = 0
    edited: int = 0
    skipped: list[str] = field(default_factory=list)
    pages: int = 0
    error: str = ""
    paused_until: datetime | None = None


@dataclass
class PageContext:
    """What storing one page of posts in a jam needs, read once per page."""

    users: dict[str, dict[str, Any]]
    members: dict[str, tuple[Any, str]]
    questions: dict[int, Question]
    stored: dict[str, Post]  # this jam's posts by X id, for every version id on the page


def members_by_x_id(jam: Jam) -> dict[str, tuple[Any, str]]:
    """X user id -> (jamhost user, role) for the jam's host and members with linked X."""
    roles = {m.user_id: m.role for m in jam.memberships.all()}
    roles.setdefault(jam.host_id, AuthorRole.HOST)
    accounts = XAccount.objects.filter(user_id__in=roles).select_related("user")
    return {a.x_user_id: (a.user, roles[a.user_id]) for a in accounts}


def page_context(jam: Jam, tweets: list[Any], users: dict[str, dict[str, Any]]) -> PageContext:
    ids = {v for t in tweets if isinstance(t, dict) for v in tweet_versions(t)}
    stored = {
        state.x_id: state.post
        for state in XPost.objects.filter(jam=jam, x_id__in=ids).select_related(
            "post", "post__question"
        )
        if state.x_id
    }
    return PageContext(
        users=users,
        members=members_by_x_id(jam),
        # The whole run-sheet: an "A8:" that arrives before Q8 is released is Q8's answer.
        questions={q.number: q for q in jam.questions.all()},
        stored=stored,
    )


def printable(text: str) -> str:
    """Without NUL and other control characters (PostgreSQL refuses NUL in text);
    line breaks and tabs stay."""
    return CONTROL_CHARS.sub("", text)


def _links(tweet: dict[str, Any]) -> list[str]:
    urls = (tweet.get("entities") or {}).get("urls") or []
    out = []
    for entity in urls if isinstance(urls, list) else []:
        if isinstance(entity, dict):
            link = entity.get("unwound_url") or entity.get("expanded_url") or entity.get("url")
            if isinstance(link, str) and link.startswith(("http://", "https://")):
                out.append(printable(link)[:500])
    return out


def _metrics(tweet: dict[str, Any]) -> dict[str, int]:
    raw = tweet.get("public_metrics")
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, int)}


def _created(tweet: dict[str, Any]) -> datetime:
    created = parse_datetime(str(tweet.get("created_at") or "")) or timezone.now()
    return timezone.make_aware(created, UTC) if timezone.is_naive(created) else created


def _own_waiting_post(*, jam: Jam, user: Any, text: str, created: datetime) -> Post | None:
    """The member's jamhost post that this X post publishes: same text, queued or failed,
    a create sent no later than the X post appeared. Of several (the same text twice),
    the one sent first; a post sent after it never takes its id."""
    waiting = (
        Post.objects.filter(
            jam=jam,
            author=user,
            on_x__status__in=[XStatus.QUEUED, XStatus.FAILED],
            on_x__x_id__isnull=True,
            publication__last_sent_at__lte=created + CLOCK_SKEW,
        )
        .select_related("publication")
        .order_by("publication__last_sent_at", "pk")
    )
    return next((own for own in waiting if same_text(own.text, text)), None)


def _edit(post: Post, *, tweet: dict[str, Any], text: str, ctx: PageContext) -> Post:
    """An X post edited on X: its jamhost post takes the new text and id in place (same
    seq, new rev, marked edited); an answer prefix changed by the edit moves it."""
    tid = str(tweet["id"])
    fields: dict[str, Any] = {
        "text": text,
        "body": text,
        "links": _links(tweet),
        "edited_at": timezone.now(),
    }
    if post.source == Source.X:
        fields["external_id"] = tid
    number = answer_number(text)
    if number is not None and post.kind == "post":
        fields["question"] = ctx.questions.get(number)
    return post_network_set(post.pk, x={"x_id": tid}, **fields)


def tweet_upsert(*, jam: Jam, tweet: Any, ctx: PageContext, result: PollResult) -> Post | None:
    """Store one X post in the jam, once per X post; an edited version updates the post
    of its earlier version. Returns the post stored or edited, None when nothing changed."""
    if not isinstance(tweet, dict):
        result.skipped.append("an entry that is not an object")
        return None
    tid, raw_text = str(tweet.get("id", "")), tweet.get("text")
    if not TWEET_ID.match(tid) or not isinstance(raw_text, str):
        result.skipped.append(f"tweet {tid[:30] or '?'}: no valid id or text")
        return None
    if tweet.get("withheld"):
        result.skipped.append(f"tweet {tid}: withheld")
        return None
    text = printable(tweet_text(tweet))
    if len(text) > MAX_BODY_CHARS:
        log.info("jam %s tweet %s: text of %s characters cut", jam.pk, tid, len(text))
        result.skipped.append(f"tweet {tid}: text cut to {MAX_BODY_CHARS} characters")
        text = text[: MAX_BODY_CHARS - 1] + "…"
    versions = tweet_versions(tweet)
    known = next((v for v in reversed(versions) if v in ctx.stored), None)
    if known is not None:
        earlier = ctx.stored[known]
        if versions.index(known) >= versions.index(tid):
            result.duplicates += 1  # this version, or an older one, is stored already
            return None
        edited = _edit(earlier, tweet=tweet, text=text, ctx=ctx)
        ctx.stored[tid] = edited
        result.edited += 1
        return edited
    author_id = str(tweet.get("author_id") or "")
    member = ctx.members.get(author_id)
    created = _created(tweet)
    if member is not None:
        own = _own_waiting_post(jam=jam, user=member[0], text=text, created=created)
        if own is not None:
            try:
                with transaction.atomic():
                    own = post_network_set(
                        own.pk, x={"x_id": tid, "status": XStatus.PUBLISHED, "error": ""}
                    )
                    Publication.objects.filter(post_id=own.pk).update(
                        done=True, lease_until=None, in_flight="", in_doubt=False
                    )
                ctx.stored[tid] = own
            except IntegrityError:
                pass  # the publisher recorded it at the same moment
            result.duplicates += 1
            return None
    return _insert(jam=jam, tweet=tweet, text=text, created=created, ctx=ctx, result=result)


def _insert(
    *,
    jam: Jam,
    tweet: dict[str, Any],
    text: str,
    created: datetime,
    ctx: PageContext,
    result: PollResult,
) -> Post | None:
    tid = str(tweet["id"])
    author_id = str(tweet.get("author_id") or "")
    member = ctx.members.get(author_id)
    user = ctx.users.get(author_id)
    if user is None:
        result.skipped.append(f"tweet {tid}: author {author_id or '?'} missing from includes")
        handle, name, avatar = (f"id{author_id}" if author_id else "unknown"), "", ""
    else:
        handle = printable(str(user.get("username") or "")) or f"id{author_id}"
        name = printable(str(user.get("name") or ""))
        avatar = printable(str(user.get("profile_image_url") or ""))
        if not avatar.startswith("https://"):
            avatar = ""
    reply_to = None
    # X's v2 docs name it referenced_tweets; its 2026 OpenAPI spec, referenced_posts.
    refs = tweet.get("referenced_tweets") or tweet.get("referenced_posts")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            reply_to = (
                Post.objects.filter(jam=jam, on_x__x_id=str(ref.get("id")))
                .select_related("question")
                .first()
            )
    number = answer_number(text)
    question = ctx.questions.get(number) if number is not None else None
    if question is None and reply_to is not None and reply_to.question is not None:
        question = reply_to.question
    try:
        with transaction.atomic():
            post = post_insert(
                jam=jam,
                body=text,
                text=text,
                author=member[0] if member is not None else None,
                author_key=None if member is not None else f"x:{author_id or tid}",
                author_handle=handle,
                author_name=name,
                author_avatar_url=avatar[:500],
                author_role=member[1] if member is not None else AuthorRole.PARTICIPANT,
                question=question,
                source=Source.X,
                external_id=tid,
                now=created,
                links=_links(tweet),
                metrics=_metrics(tweet),
                lang=printable(str(tweet.get("lang") or ""))[:12],
                reply_to=reply_to,
            )
            XPost.objects.create(post=post, jam=jam, status=XStatus.PUBLISHED, x_id=tid)
    except IntegrityError:
        result.duplicates += 1  # another poll stored it a moment ago
        return None
    except DataError as exc:
        # Something in the post the database will not store. Skip it: retrying the page
        # would fail the same way and stall every later poll.
        result.skipped.append(f"tweet {tid}: not storable ({exc.__class__.__name__})")
        return None
    ctx.stored[tid] = post
    result.stored += 1
    return post


def page_store(jam: Jam, body: dict[str, Any], result: PollResult) -> None:
    """Store one answer's posts in the jam (oldest first, so seq follows time)."""
    data = body.get("data") or []
    includes = body.get("includes") if isinstance(body.get("includes"), dict) else {}
    raw_users = includes.get("users") or [] if isinstance(includes, dict) else []
    users = {
        str(u["id"]): u
        for u in (raw_users if isinstance(raw_users, list) else [])
        if isinstance(u, dict) and u.get("id")
    }
    for problem in body.get("errors") or []:
        if isinstance(problem, dict):
            log.info("jam %s search problem: %s", jam.pk, problem.get("detail") or problem)
    if not isinstance(data, list):
        result.skipped.append("`data` is not a list")
        log.info("jam %s ingest: `data` is not a list", jam.pk)
        return
    ctx = page_context(jam, data, users)
    before = len(result.skipped)
    # X answers newest first; storing a page oldest first keeps seq in time order.
    for tweet in reversed(data):
        tweet_upsert(jam=jam, tweet=tweet, ctx=ctx, result=result)
    for reason in result.skipped[before:]:
        log.info("jam %s ingest: %s", jam.pk, reason)
