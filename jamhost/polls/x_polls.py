"""A poll also published as a native X poll from the host's account, and its results read
once after it closed.

The poll goes to X as a post by the host ("📊 <question> #tag") with X's `poll` field,
through the posts' publishing path (networks.publishing): the same bounded bill (at most
2 creates and 30 reads whatever X answers), the same final states and Retry. The `poll`
field reaches POST /2/tweets through the x_create_fields hook. After X's poll has ended
(the create was sent at `Publication.last_sent_at`, X closes it `duration_minutes` later)
the sweep reads it once (GET /2/tweets with expansions=attach_polls.poll_ids: one post
read, counted in the jam's cost panel) and stores the results beside the room's.

The read is claimed before X is called by stamping `x_read_at` with one conditional
UPDATE, so two sweeps at once read it once. The claim is a lease: while the results are
not stored, a claim older than X_POLL_READ_LEASE_SECONDS (its worker died mid-read) is
taken again by the next sweep, with a log line. Every read made is counted."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from twitter_text import parse_tweet

from jamhost.jams.models import Jam
from jamhost.networks.accounts import XAccountRevoked, x_access_token
from jamhost.networks.models import Publication, XPost, XStatus
from jamhost.networks.post_state import x_elsewhere, x_goes, x_runs
from jamhost.networks.publishing import publication_enqueue
from jamhost.networks.usage import usage_record
from jamhost.networks.x import client as x
from jamhost.polls.changes import poll_x_results_store
from jamhost.polls.models import Poll, PollState, XPollState
from jamhost.posts.models import AuthorRole
from jamhost.posts.services import post_insert

log = logging.getLogger(__name__)

# X closes its poll a little after ours (the create is sent after the poll opens here).
X_CLOSE_MARGIN = timedelta(seconds=30)


def poll_x_text(*, jam: Jam, text: str) -> str:
    return f"📊 {text} #{jam.hashtag}"


def poll_x_check(*, jam: Jam, text: str) -> None:
    """Refuse (ValidationError) a poll for X that X would not take from this host."""
    if not settings.X_CLIENT_ID:
        raise ValidationError(
            "This jamhost is not connected to X, so the poll can run in the room only."
        )
    if not x_runs(jam_id=jam.pk):
        raise ValidationError(
            "This jam runs without X (its host turned X off under Networks), so the poll can "
            "run in the room only."
        )
    if not x_goes(user=jam.host):
        raise ValidationError(
            "This poll cannot go to X: the host's X account is not connected. Connect X on "
            "the account page, or run the poll in the room only."
        )
    length = parse_tweet(poll_x_text(jam=jam, text=text)).weightedLength
    if length > 280:
        raise ValidationError(
            f"On X the poll's post would be {length} characters (with the hashtag); X takes "
            "280. Shorten the question."
        )


def poll_x_queue(*, poll: Poll) -> None:
    """Inside the opening transaction: store the host's post that carries the poll and
    queue it for X after commit."""
    jam = poll.jam
    text = poll_x_text(jam=jam, text=poll.text)
    runs = x_runs(jam_id=jam.pk)
    elsewhere = x_elsewhere(user=jam.host) if runs else {}
    post = post_insert(
        jam=jam,
        body=text,
        text=text,
        author=jam.host,
        author_role=AuthorRole.HOST,
        elsewhere=elsewhere,
    )
    poll.x_post = post
    poll.x_state = XPollState.QUEUED if elsewhere else XPollState.FAILED
    if not runs:
        poll.x_error = "The jam ran without X when the poll opened."
    elif not elsewhere:
        poll.x_error = "The host's X account was not connected when the poll opened."
    poll.save(update_fields=["x_post", "x_state", "x_error"])
    publication_enqueue(post=post)


def poll_x_fields(post: Any) -> dict[str, Any]:
    """The x_create_fields hook: X's `poll` for the post that carries a poll."""
    poll = Poll.objects.filter(x_post_id=getattr(post, "pk", None)).first()
    if poll is None:
        return {}
    options = list(poll.options.values_list("text", flat=True))
    return {"poll": {"options": options, "duration_minutes": poll.open_minutes}}


def _unclaimed(now: datetime) -> Q:
    """Not read yet, and nobody holds the read: never claimed, or claimed so long ago
    that its worker is taken to have died."""
    expired = now - timedelta(seconds=settings.X_POLL_READ_LEASE_SECONDS)
    return Q(x_state=XPollState.QUEUED) & (Q(x_read_at__isnull=True) | Q(x_read_at__lte=expired))


def polls_x_due(*, now: datetime) -> list[int]:
    """Closed polls whose X poll has ended and not yet been read (or whose post failed),
    including those whose read was claimed by a worker that did not finish in its lease."""
    due = []
    candidates = (
        Poll.objects.filter(_unclaimed(now), state=PollState.CLOSED, on_x=True)
        .select_related("x_post", "x_post__on_x")
        .order_by("pk")
    )
    for poll in candidates:
        post = poll.x_post
        state: XPost | None = getattr(post, "on_x", None) if post is not None else None
        if post is None or (state is not None and state.status == XStatus.FAILED):
            due.append(poll.pk)
            continue
        if state is None or not state.x_id:
            continue
        sent = (
            Publication.objects.filter(post_id=post.pk)
            .values_list("last_sent_at", flat=True)
            .first()
        )
        ends = (sent or poll.closes_at or now) + timedelta(minutes=poll.open_minutes)
        if now >= ends + X_CLOSE_MARGIN:
            due.append(poll.pk)
    return due


def poll_x_read(*, poll_id: int, now: datetime | None = None) -> str:
    """Read the X poll's results once. Returns "read", "failed" or "taken" (another
    worker holds the claim, or the results are stored). One GET, of one post, per claim:
    a second only when a claim's lease ran out before its results were stored."""
    now = now or timezone.now()
    stale = Poll.objects.filter(pk=poll_id).values_list("x_read_at", flat=True).first()
    # The conditional UPDATE is the claim: under PostgreSQL's row lock the second of two
    # sweeps re-reads the row, finds it claimed (x_read_at is now fresh) and updates none.
    claimed = Poll.objects.filter(_unclaimed(now), pk=poll_id).update(x_read_at=now)
    if not claimed:
        return "taken"
    if stale is not None:
        log.warning(
            "poll %s: the X read claimed at %s did not finish in %ss; reading it again",
            poll_id,
            stale,
            settings.X_POLL_READ_LEASE_SECONDS,
        )
    poll = Poll.objects.select_related("jam", "x_post", "x_post__on_x").get(pk=poll_id)
    post = poll.x_post
    state: XPost | None = getattr(post, "on_x", None) if post is not None else None
    if post is None or state is None or not state.x_id:
        reason = "its post is gone" if post is None else (state.error if state else "")
        poll_x_results_store(poll_id=poll_id, results={}, reads=0, error=f"Not on X: {reason}")
        return "failed"
    try:
        _, token = x_access_token(user_id=poll.jam.host_id)
        found, reads = x.post_poll(token=token, post_id=state.x_id)
    except (XAccountRevoked, x.XError) as exc:
        reason = getattr(exc, "reason", str(exc))
        poll_x_results_store(poll_id=poll_id, results={}, reads=0, error=f"X: {reason}")
        return "failed"
    usage_record(jam_id=poll.jam_id, reads=reads)
    if found is None:
        poll_x_results_store(
            poll_id=poll_id, results={}, reads=reads, error="X returned the post without its poll."
        )
        return "failed"
    results = {
        "id": str(found.get("id", "")),
        "voting_status": str(found.get("voting_status", "")),
        "end_datetime": str(found.get("end_datetime", "")),
        "options": [
            {
                "position": int(option.get("position", 0)),
                "label": str(option.get("label", "")),
                "votes": int(option.get("votes", 0)),
            }
            for option in found.get("options") or []
            if isinstance(option, dict)
        ],
    }
    poll_x_results_store(poll_id=poll_id, results=results, reads=reads)
    return "read"
