"""Ingest: everyone's posts with the jam's hashtag, from X's recent search, into the jam.

One poll walks the search's pages newest first. Each page's tweets are upserted by tweet
id (one post per tweet, whether it was published from jamhost or found by search), then
the cursor is saved: the next page's token, and only after the last page the new
`since_id`. A poll that dies half-way resumes from the page it was on and re-reads at most
that page, which the upsert makes harmless. Anything odd in an answer is skipped or
stored with a logged reason; nothing in an answer can stop later polls.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from jamhost.jams.answers import answer_number
from jamhost.jams.models import Jam, JamStatus, Question
from jamhost.networks.accounts import XAccountRevoked, x_access_token
from jamhost.networks.models import IngestCursor, Publication, XAccount
from jamhost.networks.publishing import comparable, post_network_set, tweet_text_expanded
from jamhost.networks.usage import usage_record
from jamhost.networks.x import client as x
from jamhost.posts.models import AuthorRole, NetworkStatus, Post, Source
from jamhost.posts.services import MAX_BODY_CHARS, post_insert

log = logging.getLogger(__name__)

TWEET_ID = re.compile(r"^\d{1,20}$")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_PAGES_PER_POLL = 50
MAX_INTERVAL = 60.0


@dataclass
class PollResult:
    stored: int = 0
    duplicates: int = 0
    skipped: list[str] = field(default_factory=list)
    pages: int = 0
    error: str = ""
    paused_until: datetime | None = None


def ingest_query(jam: Jam) -> str:
    return f"{jam.tag} -is:retweet"


def members_by_x_id(jam: Jam) -> dict[str, tuple[Any, str]]:
    """X user id -> (jamhost user, role) for the jam's host and members with linked X."""
    roles = {m.user_id: m.role for m in jam.memberships.all()}
    roles.setdefault(jam.host_id, AuthorRole.HOST)
    accounts = XAccount.objects.filter(user_id__in=roles).select_related("user")
    return {a.x_user_id: (a.user, roles[a.user_id]) for a in accounts}


def _printable(text: str) -> str:
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
                out.append(_printable(link)[:500])
    return out


def _metrics(tweet: dict[str, Any]) -> dict[str, int]:
    raw = tweet.get("public_metrics")
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, int)}


def tweet_upsert(
    *,
    jam: Jam,
    tweet: Any,
    users: dict[str, dict[str, Any]],
    members: dict[str, tuple[Any, str]],
    result: PollResult,
    known_ids: set[str] | None = None,
    questions: dict[int, Question] | None = None,
) -> Post | None:
    """Store one tweet from search or the stream as a post of the jam (once per tweet id).

    A tweet from a member's linked account that matches one of their posts waiting to be
    published becomes that post's publication, not a second post. `known_ids` and
    `questions` (the page's already-stored tweet ids, the jam's questions by
    number) save a query per tweet when a whole page is stored."""
    if not isinstance(tweet, dict):
        result.skipped.append("an entry that is not an object")
        return None
    tid, text = str(tweet.get("id", "")), tweet.get("text")
    if not TWEET_ID.match(tid) or not isinstance(text, str):
        result.skipped.append(f"tweet {tid[:30] or '?'}: no valid id or text")
        return None
    if tweet.get("withheld"):
        result.skipped.append(f"tweet {tid}: withheld")
        return None
    if known_ids is not None:
        already = tid in known_ids
    else:
        already = Post.objects.filter(network_post_id=tid).exists()
    if already:
        result.duplicates += 1
        return None
    author_id = str(tweet.get("author_id") or "")
    expanded = _printable(tweet_text_expanded(tweet))
    member = members.get(author_id)
    if member is not None:
        waiting = Post.objects.filter(
            jam=jam,
            author=member[0],
            network_status__in=[NetworkStatus.QUEUED, NetworkStatus.FAILED],
            network_post_id__isnull=True,
        )
        for own in waiting:
            if comparable(own.text) == comparable(expanded):
                try:
                    with transaction.atomic():
                        post_network_set(
                            own.pk,
                            network_post_id=tid,
                            network_status=NetworkStatus.PUBLISHED,
                            network_error="",
                        )
                        Publication.objects.filter(post_id=own.pk).update(
                            done=True, lease_until=None, in_doubt=False
                        )
                except IntegrityError:
                    pass  # the publisher recorded it at the same moment
                result.duplicates += 1
                return None
    if len(expanded) > MAX_BODY_CHARS:
        log.info("jam %s tweet %s: text of %s characters cut", jam.pk, tid, len(expanded))
        result.skipped.append(f"tweet {tid}: text cut to {MAX_BODY_CHARS} characters")
        expanded = expanded[: MAX_BODY_CHARS - 1] + "…"
    user = users.get(author_id)
    if user is None:
        result.skipped.append(f"tweet {tid}: author {author_id or '?'} missing from includes")
        handle, name, avatar = (f"id{author_id}" if author_id else "unknown"), "", ""
    else:
        handle = _printable(str(user.get("username") or "")) or f"id{author_id}"
        name = _printable(str(user.get("name") or ""))
        avatar = _printable(str(user.get("profile_image_url") or ""))
        if not avatar.startswith("https://"):
            avatar = ""
    number = answer_number(expanded)
    question = None
    reply_to = None
    # X's v2 docs name it referenced_tweets; its 2026 OpenAPI spec, referenced_posts.
    refs = tweet.get("referenced_tweets") or tweet.get("referenced_posts")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            reply_to = (
                Post.objects.filter(jam=jam, network_post_id=str(ref.get("id")))
                .select_related("question")
                .first()
            )
    if number is not None and questions is not None:
        question = questions.get(number)
    elif number is not None:
        question = jam.questions.filter(number=number).first()
    if question is None and reply_to is not None and reply_to.question is not None:
        question = reply_to.question
    created = parse_datetime(str(tweet.get("created_at") or "")) or timezone.now()
    if timezone.is_naive(created):
        created = timezone.make_aware(created, UTC)
    role = member[1] if member is not None else AuthorRole.PARTICIPANT
    try:
        with transaction.atomic():
            return post_insert(
                jam=jam,
                body=expanded,
                text=expanded,
                author=member[0] if member is not None else None,
                author_key=None if member is not None else f"x:{author_id or tid}",
                author_handle=handle,
                author_name=name,
                author_avatar_url=avatar[:500],
                author_role=role,
                question=question,
                source=Source.X,
                external_id=tid,
                now=created,
                links=_links(tweet),
                metrics=_metrics(tweet),
                lang=_printable(str(tweet.get("lang") or ""))[:12],
                reply_to=reply_to,
                network_status=NetworkStatus.PUBLISHED,
                network_post_id=tid,
            )
    except IntegrityError:
        result.duplicates += 1  # another poll stored it a moment ago
        return None
    except DataError as exc:
        # Something in the tweet the database will not store. Skip it: retrying the page
        # would fail the same way and stall every later poll.
        result.skipped.append(f"tweet {tid}: not storable ({exc.__class__.__name__})")
        return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _page_store(jam: Jam, body: dict[str, Any], result: PollResult) -> None:
    data = body.get("data") or []
    includes = _object(body.get("includes"))
    raw_users = includes.get("users") or []
    users = {
        str(u["id"]): u
        for u in (raw_users if isinstance(raw_users, list) else [])
        if isinstance(u, dict) and u.get("id")
    }
    members = members_by_x_id(jam)
    for problem in body.get("errors") or []:
        if isinstance(problem, dict):
            log.info("jam %s search problem: %s", jam.pk, problem.get("detail") or problem)
    if not isinstance(data, list):
        result.skipped.append("`data` is not a list")
        log.info("jam %s ingest: `data` is not a list", jam.pk)
        return
    ids = [str(t.get("id")) for t in data if isinstance(t, dict)]
    found = Post.objects.filter(network_post_id__in=ids).values_list("network_post_id", flat=True)
    known_ids = {str(tid) for tid in found}
    # The whole run-sheet: an "A8:" that arrives before Q8 is released is Q8's answer.
    questions = {q.number: q for q in jam.questions.all()}
    before = len(result.skipped)
    # X answers newest first; storing a page oldest first keeps seq in time order.
    for tweet in reversed(data):
        stored = tweet_upsert(
            jam=jam,
            tweet=tweet,
            users=users,
            members=members,
            result=result,
            known_ids=known_ids,
            questions=questions,
        )
        if stored:
            result.stored += 1
    for reason in result.skipped[before:]:
        log.info("jam %s ingest: %s", jam.pk, reason)


def _token_for(jam: Jam) -> str:
    if settings.X_BEARER_TOKEN:
        return settings.X_BEARER_TOKEN
    _, token = x_access_token(user_id=jam.host_id)  # the host's account can search too
    return token


def _interval(page: x.SearchPage | None, now: datetime) -> float:
    """Spread the remaining rate budget over the time until it resets."""
    floor = max(settings.SWEEP_INTERVAL, 1.0)
    if page is None or page.remaining is None or page.reset_at is None:
        return floor
    seconds_left = max((page.reset_at - now).total_seconds(), 1.0)
    return min(max(floor, seconds_left / max(page.remaining, 1)), MAX_INTERVAL)


def ingest_poll(*, jam_id: int, now: datetime | None = None) -> PollResult:
    """Read new hashtag posts for the jam from X. Never raises for X's failures or for
    anything in X's answers; the reason lands in the cursor's last_error and the log."""
    now = now or timezone.now()
    result = PollResult()
    with transaction.atomic():
        cursor, _ = IngestCursor.objects.select_for_update().get_or_create(jam_id=jam_id)
        if cursor.lease_until and cursor.lease_until > now:
            result.error = "another poll is running"
            return result
        if cursor.paused_until and cursor.paused_until > now:
            result.paused_until = cursor.paused_until
            return result
        cursor.lease_until = now + timedelta(minutes=5)
        cursor.save(update_fields=["lease_until"])
    jam = Jam.objects.select_related("host").get(pk=jam_id)
    page: x.SearchPage | None = None
    try:
        token = _token_for(jam)
        while result.pages < MAX_PAGES_PER_POLL:
            page = x.search_recent(
                token=token,
                query=ingest_query(jam),
                since_id=cursor.since_id,
                next_token=cursor.next_token,
            )
            result.pages += 1
            count = len(page.body["data"]) if isinstance(page.body.get("data"), list) else 0
            usage_record(jam_id=jam_id, reads=count)
            _page_store(jam, page.body, result)
            meta = _object(page.body.get("meta"))
            newest = str(meta.get("newest_id") or "")
            if not cursor.next_token and TWEET_ID.match(newest):
                cursor.pending_newest_id = newest  # first page of this search: its newest
            next_token = meta.get("next_token")
            if isinstance(next_token, str) and next_token:
                cursor.next_token = next_token[:200]
                cursor.save(update_fields=["next_token", "pending_newest_id"])
                continue
            if cursor.pending_newest_id:
                cursor.since_id = cursor.pending_newest_id
            cursor.next_token = cursor.pending_newest_id = ""
            cursor.save(update_fields=["since_id", "next_token", "pending_newest_id"])
            break
        cursor.last_error, cursor.failures = "", 0
        cursor.next_poll_at = now + timedelta(seconds=_interval(page, now))
    except x.XRateLimited as exc:
        result.error, result.paused_until = exc.reason, exc.reset_at
        cursor.paused_until = cursor.next_poll_at = exc.reset_at
        cursor.last_error = exc.reason
    except x.XRefused as exc:
        if cursor.next_token:
            # A stale page token: start the search again from since_id (upserts are safe).
            cursor.next_token = cursor.pending_newest_id = ""
        result.error = cursor.last_error = exc.reason
        cursor.failures += 1
    except (x.XError, XAccountRevoked) as exc:
        result.error = cursor.last_error = exc.reason
        cursor.failures += 1
    except Exception as exc:  # nothing X sends may stop later polls
        log.exception("jam %s ingest failed", jam_id)
        result.error = cursor.last_error = f"unexpected {type(exc).__name__}"
        cursor.failures += 1
    if result.error and not result.paused_until:
        backoff = min(settings.SWEEP_INTERVAL * 2 ** min(cursor.failures, 6), 300)
        cursor.next_poll_at = now + timedelta(seconds=backoff)
        log.warning("jam %s ingest: %s", jam_id, result.error)
    cursor.last_polled_at = now
    cursor.lease_until = None
    cursor.last_error = cursor.last_error[:300]
    cursor.save()
    return result


def ingest_window(*, now: datetime) -> list[int]:
    """Jams to poll now: live ones, and those within X_INGEST_MARGIN_MINUTES of their
    start or end."""
    margin = timedelta(minutes=settings.X_INGEST_MARGIN_MINUTES)
    ids = set(Jam.objects.filter(status=JamStatus.LIVE).values_list("pk", flat=True))
    ids |= set(
        Jam.objects.filter(status=JamStatus.SCHEDULED, starts_at__lte=now + margin).values_list(
            "pk", flat=True
        )
    )
    ids |= set(
        Jam.objects.filter(
            status__in=[JamStatus.ENDED, JamStatus.ARCHIVED], ended_at__gte=now - margin
        ).values_list("pk", flat=True)
    )
    return sorted(ids)


def ingest_due(*, now: datetime) -> list[int]:
    """Jams in the window whose next poll is due."""
    due = []
    cursors = {c.jam_id: c for c in IngestCursor.objects.filter(jam_id__in=ingest_window(now=now))}
    for jam_id in ingest_window(now=now):
        cursor = cursors.get(jam_id)
        if cursor is None or cursor.next_poll_at is None or cursor.next_poll_at <= now:
            due.append(jam_id)
    return due
