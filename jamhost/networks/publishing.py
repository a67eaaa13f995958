"""Publishing posts to X, exactly once, and never losing a post because X failed.

A post by a user with a linked X account is stored locally first (network status
"queued") and published by a task after commit. Each attempt takes a lease on the post's
Publication row; an attempt whose outcome is unknown (timeout, 5xx, a worker that died
mid-call) leaves the publication `in_doubt`, and the next attempt looks for the tweet on
X before posting again. Retries are not Celery countdowns: the attempt records
`next_attempt_at` (backoff, or the 429 reset time) and the periodic networks sweep sends
it again, so a lost task or a restarted broker cannot lose a post either.
"""

from __future__ import annotations

import logging
import random
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from jamhost.jams.counters import jam_next_rev
from jamhost.jams.permissions import can_moderate
from jamhost.live.publish import post_changed_on_commit
from jamhost.networks.accounts import XAccountRevoked, x_access_token, x_account_mark_revoked
from jamhost.networks.models import Publication, XAccount
from jamhost.networks.usage import usage_record
from jamhost.networks.x import client as x
from jamhost.posts.models import NetworkStatus, Post, PostStatus

log = logging.getLogger(__name__)

MAX_TRANSIENT_ATTEMPTS = 8
URL_IN_TEXT = re.compile(r"https?://\S+|\b[\w-]+\.(?:com|org|net|io|dev|co)\b", re.IGNORECASE)
SPACES = re.compile(r"\s+")


def network_status_for(*, user: Any) -> str:
    """ "queued" when the user's posts go to X (X configured, account linked and working)."""
    if not settings.X_CLIENT_ID or user is None or not getattr(user, "pk", None):
        return NetworkStatus.LOCAL
    linked = XAccount.objects.filter(user_id=user.pk, revoked_at__isnull=True).exists()
    return NetworkStatus.QUEUED if linked else NetworkStatus.LOCAL


def publication_enqueue(*, post: Post) -> None:
    """Start publishing a queued post once the current transaction commits."""
    if post.network_status != NetworkStatus.QUEUED:
        return
    Publication.objects.update_or_create(
        post=post, defaults={"next_attempt_at": timezone.now(), "done": False}
    )
    transaction.on_commit(lambda: _task_send(post.pk))


def _task_send(post_id: int) -> None:
    from jamhost.networks import sweep
    from jamhost.networks.tasks import publish_post

    if sweep.embedded_loop_running:
        return
    try:
        publish_post.delay(post_id)
    except Exception:  # the broker is down: the post is stored and queued; the sweep sends it
        log.warning(
            "could not enqueue publishing of post %s; the sweep will", post_id, exc_info=True
        )


def post_network_set(post_id: int, **fields: Any) -> Post:
    """Change a post's network fields with a new rev, so every screen shows it."""
    with transaction.atomic():
        jam_id = Post.objects.values_list("jam_id", flat=True).get(pk=post_id)
        _, rev = jam_next_rev(jam_id=jam_id)  # jam row first, as post_insert does
        post = (
            Post.objects.select_for_update(of=("self",)).select_related("question").get(pk=post_id)
        )
        for name, value in fields.items():
            setattr(post, name, value)
        post.rev = rev
        post.save(update_fields=[*fields, "rev", "updated_at"])
        post_changed_on_commit(post)
    return post


def _backoff(attempt: int) -> timedelta:
    seconds = min(5 * 2 ** max(attempt - 1, 0), 300)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def comparable(text: str) -> str:
    return SPACES.sub(" ", text).strip().casefold()


def tweet_text_expanded(tweet: dict[str, Any]) -> str:
    """The tweet's text with t.co links replaced by where they lead."""
    text = str(tweet.get("text") or "")
    urls = (tweet.get("entities") or {}).get("urls") or []
    for entity in urls if isinstance(urls, list) else []:
        if isinstance(entity, dict) and entity.get("url") and entity.get("expanded_url"):
            text = text.replace(str(entity["url"]), str(entity["expanded_url"]))
    return text


def _find_on_x(*, post: Post, account: XAccount, token: str) -> str | None:
    """After an attempt whose outcome is unknown: the id of the tweet if it went out."""
    page = x.search_recent(
        token=token, query=f"from:{account.username} {post.jam.tag}", max_results=100
    )
    data = page.body.get("data")
    tweets: list[Any] = data if isinstance(data, list) else []
    usage_record(jam_id=post.jam_id, reads=len(tweets))
    wanted = comparable(post.text)
    for tweet in tweets:
        if isinstance(tweet, dict) and comparable(tweet_text_expanded(tweet)) == wanted:
            return str(tweet.get("id"))
    return None


def _claim(post_id: int, now: datetime) -> tuple[str, Post | None, bool]:
    with transaction.atomic():
        publication, _ = Publication.objects.select_for_update().get_or_create(
            post_id=post_id, defaults={"next_attempt_at": now}
        )
        post = Post.objects.select_related("jam").get(pk=post_id)
        if post.network_post_id or post.network_status == NetworkStatus.PUBLISHED:
            publication.done, publication.lease_until = True, None
            publication.save(update_fields=["done", "lease_until"])
            return "already", post, False
        if post.network_status != NetworkStatus.QUEUED or publication.done:
            return "not queued", post, False
        if publication.lease_until is not None and publication.lease_until > now:
            return "busy", post, False
        # A lease still set means the last attempt never reported back: it may have posted.
        in_doubt = publication.in_doubt or publication.lease_until is not None
        publication.in_doubt = in_doubt
        # An attempt makes at most three calls (refresh, look-up, create), each bounded.
        publication.lease_until = now + timedelta(seconds=settings.X_TIMEOUT * 3 + 5)
        publication.save(update_fields=["in_doubt", "lease_until"])
        Post.objects.filter(pk=post_id).update(network_attempts=post.network_attempts + 1)
        post.network_attempts += 1
    return "claimed", post, in_doubt


def _later(post: Post, *, when: datetime, reason: str, in_doubt: bool | None = None) -> str:
    fields: dict[str, Any] = {"lease_until": None, "next_attempt_at": when}
    if in_doubt is not None:
        fields["in_doubt"] = in_doubt
    Publication.objects.filter(post_id=post.pk).update(**fields)
    note = f"{reason}; trying again at {when:%H:%M:%S} UTC"
    if post.network_error != note[:300]:
        post_network_set(post.pk, network_error=note[:300])
    log.info("post %s not published yet: %s", post.pk, note)
    return "retry"


def _fail(post: Post, reason: str) -> str:
    Publication.objects.filter(post_id=post.pk).update(lease_until=None, done=True)
    post_network_set(post.pk, network_status=NetworkStatus.FAILED, network_error=reason[:300])
    log.warning("post %s failed to publish to X: %s", post.pk, reason)
    return "failed"


def _published(post: Post, tweet_id: str, *, created: bool) -> str:
    try:
        with transaction.atomic():
            # Ingest may have stored this tweet as an X post before we recorded it.
            copy = Post.objects.filter(network_post_id=tweet_id).exclude(pk=post.pk).first()
            if copy is not None:
                post_network_set(
                    copy.pk,
                    network_post_id=None,
                    status=PostStatus.HIDDEN,
                    status_reason=f"same post as #{post.seq}, published from jamhost",
                )
            post_network_set(
                post.pk,
                network_post_id=tweet_id,
                network_status=NetworkStatus.PUBLISHED,
                network_error="",
            )
            Publication.objects.filter(post_id=post.pk).update(
                lease_until=None, done=True, in_doubt=False
            )
    except IntegrityError:
        log.warning("post %s: tweet %s is recorded on another post", post.pk, tweet_id)
        return _fail(post, f"tweet {tweet_id} is already recorded on another post")
    if created:
        usage_record(jam_id=post.jam_id, creates=1, with_url=bool(URL_IN_TEXT.search(post.text)))
    return "published"


def post_publish(*, post_id: int, now: datetime | None = None) -> str:
    """Publish one queued post to X from its author's account. Safe to run any number of
    times, concurrently too: it posts at most once (the tweet id is recorded; an unknown
    outcome is checked on X before posting again). Returns what happened: "published",
    "already", "retry", "failed", "busy" or "not queued". Never raises for X's failures."""
    now = now or timezone.now()
    outcome, post, in_doubt = _claim(post_id, now)
    if outcome != "claimed" or post is None:
        return outcome
    try:
        account, token = x_access_token(user_id=post.author_id or 0)
    except XAccountRevoked as exc:
        return _fail(post, f"Reconnect X to publish this post ({exc.reason}).")
    except x.XError as exc:
        return _later(post, when=now + _backoff(post.network_attempts), reason=exc.reason)
    try:
        if in_doubt:
            found = _find_on_x(post=post, account=account, token=token)
            if found:
                log.info("post %s was already on X as %s", post.pk, found)
                return _published(post, found, created=True)
        created = x.post_create(token=token, text=post.text)
        return _published(post, str(created["id"]), created=True)
    except x.XRateLimited as exc:
        return _later(post, when=exc.reset_at, reason=exc.reason)
    except x.XUnauthorized as exc:
        x_account_mark_revoked(account=account, reason=exc.reason)
        return _fail(post, f"Reconnect X to publish this post ({exc.reason}).")
    except x.XRefused as exc:
        if "duplicate" in exc.reason.lower():
            # X already has this text from this account: most likely our own lost answer.
            Publication.objects.filter(post_id=post.pk).update(in_doubt=True)
            return _later(post, when=now, reason=exc.reason, in_doubt=True)
        return _fail(post, exc.reason)
    except x.XUnavailable as exc:
        if post.network_attempts >= MAX_TRANSIENT_ATTEMPTS:
            return _fail(
                post, f"X did not accept it after {post.network_attempts} tries: {exc.reason}"
            )
        # A timeout or 5xx may have posted it all the same: check before the next try.
        return _later(
            post, when=now + _backoff(post.network_attempts), reason=exc.reason, in_doubt=True
        )


def post_publish_retry(*, post: Post, actor: Any) -> Post:
    """Queue a failed post for X again (its author, the host or a moderator)."""
    if not (actor and actor.is_authenticated):
        raise PermissionDenied("Sign in to retry.")
    if post.author_id != actor.pk and not can_moderate(user=actor, jam=post.jam):
        raise PermissionDenied("Only the author, the host or a moderator can retry this post.")
    if post.network_status != NetworkStatus.FAILED:
        raise ValidationError("Only a post that failed to reach X can be retried.")
    if network_status_for(user=post.author) != NetworkStatus.QUEUED:
        raise ValidationError(
            "The author's X account is not connected. Reconnect X on the account page, then retry."
        )
    with transaction.atomic():
        post = post_network_set(
            post.pk, network_status=NetworkStatus.QUEUED, network_error="", network_attempts=0
        )
        Publication.objects.update_or_create(
            post=post,
            defaults={"next_attempt_at": timezone.now(), "done": False, "lease_until": None},
        )
        transaction.on_commit(lambda: _task_send(post.pk))
    return post


def publications_due(*, now: datetime, limit: int = 200) -> list[int]:
    """Queued posts whose next attempt is due (or whose task was never sent)."""
    due = (
        Post.objects.filter(network_status=NetworkStatus.QUEUED)
        .filter(
            Q(publication__isnull=True)
            | Q(
                publication__done=False,
                publication__next_attempt_at__lte=now,
            )
            & (Q(publication__lease_until__isnull=True) | Q(publication__lease_until__lte=now))
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return list(due)
