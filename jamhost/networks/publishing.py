"""Publishing posts to X with a bounded bill and a final state, never losing a post.

A post by a user with a linked X account is stored locally first (network status
"queued"; "held" while moderation holds it) and published by a task after commit. Each
attempt takes a lease on the post's Publication row. Retries are not Celery countdowns:
an attempt records `next_attempt_at` and the periodic networks sweep sends it again, so a
lost task or a restarted broker cannot lose a post either.

The bill of one post is bounded whatever X answers: at most MAX_CREATES create calls and
len(LOOKUP_DELAYS) look-ups of at most lookup.LOOKUP_MAX_RESULTS posts each (2 creates, 30
reads).

- 201 with an id: published.
- 403 duplicate content, with no unclear attempt before: failed at once ("X refuses the
  same text twice; change a word"), never retried.
- No answer, a cut connection, 5xx, garbage, or a worker that died mid-call: unclear. The
  post may be on X, and search lags, so jamhost looks at the author's own posts since the
  first attempt (GET /2/users/:id/tweets, 10 posts) about 10 s, 1 min and 5 min later.
  If the first look-up answers and the post is not there, it is sent once more (X would
  refuse a duplicate if it were there after all); a duplicate 403 then means it is there.
- 429: nothing was created; sent again after X's reset, once.
- After the last look-up: "Not confirmed: check your X profile", with Retry.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from jamhost.core import events
from jamhost.core.hooks import collect_x_create_fields
from jamhost.jams.permissions import can_moderate
from jamhost.networks.accounts import XAccountRevoked, x_access_token, x_account_mark_revoked
from jamhost.networks.lookup import own_post_on_x
from jamhost.networks.models import Publication, XAccount, XPost, XStatus
from jamhost.networks.post_state import (
    backoff,
    post_network_set,
    too_long_for_x,
    x_elsewhere,
    x_goes,
    x_row,
    x_runs,
    x_shown,
    x_state,
    x_status,
)
from jamhost.networks.usage import usage_record
from jamhost.networks.x import client as x
from jamhost.networks.x.rules import text_has_url
from jamhost.posts.models import Post, PostStatus, Source

log = logging.getLogger(__name__)

MAX_CREATES = 2
LOOKUP_DELAYS = (timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=5))
# Attempts of one run, whatever failed (a token refresh too): then the post fails.
MAX_ATTEMPTS = 10
MAX_RATE_WAIT = timedelta(minutes=16)
DUPLICATE = "X refuses the same text twice; change a word and post it again."
NOT_CONFIRMED = (
    "Not confirmed: check your X profile. X's answer was unclear and jamhost could not "
    "find the post on X; if it is not there, press Retry."
)


def publication_enqueue(*, post: Post) -> None:
    """Start publishing a post queued for X once the current transaction commits. A post
    that moderation holds (pending or hidden) waits as "held" until it is shown."""
    if x_status(post) != XStatus.QUEUED:
        return
    if not x_runs(jam_id=post.jam_id):
        # The host runs this jam without X: the post stays here (and on its other networks).
        x_shown(post, None)
        XPost.objects.filter(post_id=post.pk).delete()
        return
    too_long = too_long_for_x(post.text)
    if too_long:
        x_shown(post, XStatus.FAILED, too_long)
        x_row(post, XStatus.FAILED, too_long)
        return
    if post.status != PostStatus.VISIBLE:
        x_shown(post, XStatus.HELD)
        x_row(post, XStatus.HELD)
        return
    x_row(post, XStatus.QUEUED)
    Publication.objects.update_or_create(
        post=post, defaults={"next_attempt_at": timezone.now(), "done": False}
    )
    transaction.on_commit(lambda: _task_send(post.pk))


def publication_release(*, post: Post) -> None:
    """A held post has just been shown (approved, restored): publish it now. Runs inside
    the showing transaction; the caller stamps and publishes the post's new state."""
    if x_status(post) != XStatus.HELD or post.status != PostStatus.VISIBLE:
        return
    if not x_goes(user=post.author):
        x_shown(post, None)
        XPost.objects.filter(post_id=post.pk).delete()
        return
    x_shown(post, XStatus.QUEUED)
    publication_enqueue(post=post)


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


# One attempt --------------------------------------------------------------------------


def _claim(post_id: int, now: datetime) -> tuple[str, Post | None, Publication | None]:
    """Take the lease for one attempt. A lease that ran out while a create was in flight
    means that worker died not knowing whether X posted: the attempt becomes unclear."""
    with transaction.atomic():
        publication, _ = Publication.objects.select_for_update().get_or_create(
            post_id=post_id, defaults={"next_attempt_at": now}
        )
        post = Post.objects.select_related("jam", "author", "on_x").get(pk=post_id)
        state: XPost | None = getattr(post, "on_x", None)
        if state is not None and (state.x_id or state.status == XStatus.PUBLISHED):
            publication.done, publication.lease_until = True, None
            publication.save(update_fields=["done", "lease_until"])
            return "already", post, None
        if state is None or state.status != XStatus.QUEUED or publication.done:
            return "not queued", post, None
        if publication.lease_until is not None and publication.lease_until > now:
            return "busy", post, None
        if publication.lease_until is not None and publication.in_flight == "create":
            publication.unclear_since = publication.unclear_since or publication.last_sent_at
            publication.lookups_from = publication.lookups_from or publication.last_sent_at
            publication.in_doubt = True
        # An attempt makes at most four calls (refresh, look-up, create), each bounded.
        publication.lease_until = now + timedelta(seconds=settings.X_TIMEOUT * 4 + 5)
        publication.in_flight = ""
        publication.save()
        XPost.objects.filter(post_id=post_id).update(attempts=F("attempts") + 1)
        state.attempts += 1
    return "claimed", post, publication


def _sending(publication: Publication, step: str, now: datetime) -> None:
    """Record the call about to be made, before it is made (the bill's counters, and
    what a worker that dies now was doing)."""
    publication.in_flight = step
    if step == "create":
        publication.creates += 1
        publication.last_sent_at = now
    else:
        publication.lookups += 1
    Publication.objects.filter(pk=publication.pk).update(
        in_flight=step,
        creates=publication.creates,
        lookups=publication.lookups,
        last_sent_at=publication.last_sent_at,
    )


def _later(
    post: Post, publication: Publication, *, when: datetime, reason: str, **fields: Any
) -> str:
    """Hand the lease back; the sweep tries again at `when`."""
    for name, value in fields.items():
        setattr(publication, name, value)
    Publication.objects.filter(pk=publication.pk).update(
        lease_until=None, in_flight="", next_attempt_at=when, **fields
    )
    note = f"{reason}; trying again at {when:%H:%M:%S} UTC"
    state: XPost | None = getattr(post, "on_x", None)
    if state is None or state.error != note[:300]:
        post_network_set(post.pk, x={"error": note[:300]})
    log.info("post %s not published yet: %s", post.pk, note)
    return "retry"


def _fail(post: Post, reason: str) -> str:
    Publication.objects.filter(post_id=post.pk).update(lease_until=None, in_flight="", done=True)
    post_network_set(post.pk, x={"status": XStatus.FAILED, "error": reason[:300]})
    log.warning("post %s failed to publish to X: %s", post.pk, reason)
    return "failed"


def _hold(post: Post) -> str:
    """Moderation took the post back before it went out: it waits until shown."""
    Publication.objects.filter(post_id=post.pk).update(lease_until=None, in_flight="", done=True)
    post_network_set(post.pk, x={"status": XStatus.HELD, "error": ""})
    return "held"


def _published(post: Post, tweet_id: str) -> str:
    try:
        with transaction.atomic():
            # Ingest may have stored this tweet as an X post before we recorded it.
            copy = (
                Post.objects.filter(jam_id=post.jam_id, on_x__x_id=tweet_id)
                .exclude(pk=post.pk)
                .first()
            )
            if copy is not None and copy.source != Source.X:
                raise IntegrityError(f"post {copy.pk} is already X post {tweet_id}")
            if copy is not None:
                post_network_set(
                    copy.pk,
                    x={"x_id": None},
                    status=PostStatus.HIDDEN,
                    status_reason=f"same post as #{post.seq}, published from jamhost",
                )
            post_network_set(
                post.pk, x={"x_id": tweet_id, "status": XStatus.PUBLISHED, "error": ""}
            )
            Publication.objects.filter(post_id=post.pk).update(
                lease_until=None, in_flight="", done=True, in_doubt=False
            )
    except IntegrityError:
        log.warning("post %s: tweet %s is recorded on another post", post.pk, tweet_id)
        return _fail(post, f"X post {tweet_id} is already recorded on another post")
    usage_record(jam_id=post.jam_id, creates=1, with_url=text_has_url(post.text))
    return "published"


def _look_later(post: Post, publication: Publication, *, reason: str, now: datetime) -> str:
    """The outcome is unclear: look again after the next delay, or end "not confirmed"."""
    if publication.lookups >= len(LOOKUP_DELAYS):
        return _fail(post, NOT_CONFIRMED)
    start = publication.lookups_from or now
    when = max(now, start + LOOKUP_DELAYS[publication.lookups])
    return _later(post, publication, when=when, reason=reason, in_doubt=True, lookups_from=start)


def _mark_unclear(publication: Publication, sent: datetime) -> None:
    """A create sent at `sent` may have posted: look-ups start from its time."""
    publication.unclear_since = publication.unclear_since or sent
    publication.lookups_from = publication.lookups_from or sent
    Publication.objects.filter(pk=publication.pk).update(
        unclear_since=publication.unclear_since, lookups_from=publication.lookups_from
    )


def _create(post: Post, publication: Publication, *, token: str, now: datetime) -> str:
    _sending(publication, "create", now)
    try:
        created = x.post_create(token=token, text=post.text, **collect_x_create_fields(post))
    except x.XRateLimited as exc:
        # Nothing was created. After an unclear attempt, look rather than send again.
        if publication.unclear_since is not None:
            return _look_later(post, publication, reason=exc.reason, now=now)
        if publication.creates < MAX_CREATES:
            when = min(exc.reset_at, now + MAX_RATE_WAIT)
            return _later(post, publication, when=max(when, now), reason=exc.reason)
        return _fail(
            post,
            f"X's rate limit refused it {publication.creates} times ({exc.reason}). "
            "Press Retry later.",
        )
    except x.XRefused as exc:
        if "duplicate content" not in exc.reason.lower():
            return _fail(post, exc.reason)
        if publication.unclear_since is None:
            return _fail(post, DUPLICATE)
        # X has this text from this account: most likely our own unclear attempt.
        publication.duplicate_seen = True
        Publication.objects.filter(pk=publication.pk).update(duplicate_seen=True)
        return _look_later(post, publication, reason="X says it has this post already", now=now)
    except x.XUnavailable as exc:
        _mark_unclear(publication, now)
        return _look_later(post, publication, reason=f"{exc.reason}; looking for it on X", now=now)
    return _published(post, str(created["id"]))


def _look(
    post: Post, publication: Publication, *, account: XAccount, token: str, now: datetime
) -> str:
    _sending(publication, "lookup", now)
    try:
        found = own_post_on_x(
            post=post,
            account=account,
            token=token,
            since=publication.unclear_since or now,
            sent=publication.last_sent_at or now,
            now=now,
        )
    except x.XUnauthorized:
        raise  # the grant is gone: post_publish asks the author to reconnect
    except x.XError as exc:
        return _look_later(post, publication, reason=f"could not look on X ({exc.reason})", now=now)
    if found:
        log.info("post %s was on X as %s", post.pk, found)
        return _published(post, found)
    if not publication.duplicate_seen and publication.creates < MAX_CREATES:
        # X answered and the post is not there: the attempt most likely never arrived.
        # Sending again is safe: X refuses a duplicate if it was there after all.
        return _create(post, publication, token=token, now=now)
    return _look_later(post, publication, reason="not found on X yet", now=now)


def post_publish(*, post_id: int, now: datetime | None = None) -> str:
    """Publish one queued post to X from its author's account. Safe to run any number of
    times, concurrently too: it posts at most once, and one post costs at most 2 creates
    and 30 reads whatever X answers. Returns what happened: "published", "already",
    "retry", "failed", "held", "busy" or "not queued". Never raises for X's failures."""
    now = now or timezone.now()
    outcome, post, publication = _claim(post_id, now)
    if outcome != "claimed" or post is None or publication is None:
        return outcome
    if post.status != PostStatus.VISIBLE:
        return _hold(post)
    attempts = post.on_x.attempts  # read by _claim
    if attempts > MAX_ATTEMPTS:
        return _fail(post, NOT_CONFIRMED if publication.unclear_since else "X did not answer.")
    try:
        account, token = x_access_token(user_id=post.author_id or 0)
    except XAccountRevoked as exc:
        return _fail(post, f"Reconnect X to publish this post ({exc.reason}).")
    except x.XError as exc:
        return _later(post, publication, when=now + backoff(attempts), reason=exc.reason)
    try:
        if publication.in_doubt:
            if publication.lookups >= len(LOOKUP_DELAYS):
                return _fail(post, NOT_CONFIRMED)
            return _look(post, publication, account=account, token=token, now=now)
        if publication.creates >= MAX_CREATES:
            return _fail(post, NOT_CONFIRMED if publication.unclear_since else "X did not answer.")
        return _create(post, publication, token=token, now=now)
    except x.XUnauthorized as exc:
        x_account_mark_revoked(account=account, reason=exc.reason)
        message = f"Reconnect X to publish this post ({exc.reason})."
        if publication.unclear_since is not None:
            message = f"{NOT_CONFIRMED} {message}"
        return _fail(post, message)


def post_publish_retry(*, post: Post, actor: Any, now: datetime | None = None) -> Post:
    """Queue a failed post for X again (its author, the host or a moderator). A post whose
    earlier outcome was unclear is looked for first, then sent."""
    if not (actor and actor.is_authenticated):
        raise PermissionDenied("Sign in to retry.")
    if post.author_id != actor.pk and not can_moderate(user=actor, jam=post.jam):
        raise PermissionDenied("Only the author, the host or a moderator can retry this post.")
    state = x_state(post.pk)
    if state is None or state.status != XStatus.FAILED:
        raise ValidationError("Only a post that failed to reach X can be retried.")
    too_long = too_long_for_x(post.text)
    if too_long:
        reason = too_long.split(". ")[0]
        raise ValidationError(f"{reason}. X will not take it as it is: post a shorter one.")
    if not x_goes(user=post.author):
        raise ValidationError(
            "The author's X account is not connected. Reconnect X on the account page, then retry."
        )
    now = now or timezone.now()
    with transaction.atomic():
        post = post_network_set(post.pk, x={"status": XStatus.QUEUED, "error": "", "attempts": 0})
        unclear = Publication.objects.filter(post=post, unclear_since__isnull=False).exists()
        Publication.objects.update_or_create(
            post=post,
            defaults={
                "next_attempt_at": now,
                "done": False,
                "lease_until": None,
                "in_flight": "",
                "creates": 0,
                "lookups": 0,
                "duplicate_seen": False,
                "in_doubt": unclear,
                # The first look-up at once, the next ones spaced from here.
                "lookups_from": now - LOOKUP_DELAYS[0],
            },
        )
        transaction.on_commit(lambda: _task_send(post.pk))
    return post


def publications_due(*, now: datetime, limit: int = 200) -> list[int]:
    """Queued posts whose next attempt is due (or whose task was never sent)."""
    due = (
        Post.objects.filter(on_x__status=XStatus.QUEUED)
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


# Subscribers to the posts app's events (NetworksConfig.ready) ----------------------------


def subscribe() -> None:
    events.subscribe(events.ElsewhereAsked, lambda event: x_elsewhere(user=event.user))
    events.subscribe(events.PublicationWanted, lambda event: publication_enqueue(post=event.post))
    events.subscribe(events.PostModerated, lambda event: publication_release(post=event.post))
