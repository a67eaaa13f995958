"""Publishing jamhost posts to the jam's other networks (Bluesky, Mastodon), with a
bounded bill and a final state, never losing a post.

When a post is stored (PublicationWanted, inside its transaction) each enabled network of
its jam, X aside, where the author has a linked account gets a Delivery: "queued", or
"held" while moderation holds the post. A question goes out from the account the host
chose for that network (JamNetwork.poster). A post longer than a network allows fails
there at once with that network's reason; the other networks still get it. A post that
came from a network is never published to another.

After commit a task (or the sweep, or the embedded server's loop) sends each delivery.
Every attempt leases the row and sends the same key: Bluesky's record key (chosen by
jamhost, so the post's id is known, and recorded, before the first call) or Mastodon's
Idempotency-Key. Sending again after an unclear answer therefore never posts twice, and
a post is tried at most MAX_ATTEMPTS times before it fails with a Retry.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

from jamhost.jams.permissions import can_moderate
from jamhost.networks.gateway import gateway_for
from jamhost.networks.models import (
    Delivery,
    DeliveryStatus,
    JamNetwork,
    LinkedAccount,
    Network,
    NetworkCursor,
)
from jamhost.networks.post_state import backoff, post_network_set
from jamhost.networks.remote import (
    RemoteError,
    RemoteExpired,
    RemoteRateLimited,
    RemoteRefused,
    RemoteUnauthorized,
)
from jamhost.posts.models import Kind, Post, PostStatus, Source

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
MAX_RATE_WAIT = timedelta(minutes=16)
OTHER_NETWORKS = (Network.BLUESKY, Network.MASTODON)


def networks_on() -> bool:
    """Whether this install offers any network besides X."""
    return bool(settings.BLUESKY_ENABLED or settings.MASTODON_ENABLED)


def delivery_key(post: Post) -> str:
    """The post's idempotency key on every network: its creation time in microseconds
    (Bluesky's record keys are time-based) and its id."""
    micros = int(post.created_at.timestamp() * 1_000_000)
    return f"{micros}.{post.pk}"


def text_for(post: Post, route: JamNetwork) -> str:
    """The post's text on this network: the network's hashtag in place of the jam's."""
    if not route.hashtag or route.hashtag.lower() == post.jam.hashtag.lower():
        return post.text
    head, found, tail = post.text.rpartition(post.jam.tag)
    if not found:
        return f"{post.text} #{route.hashtag}"
    return f"{head}#{route.hashtag}{tail}"


def _account_for(post: Post, route: JamNetwork, accounts: list[LinkedAccount]) -> Any:
    """The account that sends the post there: a question the route's poster (else the
    host's own account, as on X), anything else its author's."""
    if post.kind == Kind.QUESTION and route.poster and not route.poster.is_revoked:
        return route.poster
    mine = [a for a in accounts if a.network == route.network]
    # On Mastodon, the person's account on the jam's instance first, else any of theirs.
    return next((a for a in mine if a.service == route.service), mine[0] if mine else None)


def deliveries_summary(post_id: int) -> dict[str, dict[str, str]]:
    summary: dict[str, dict[str, str]] = {}
    for d in Delivery.objects.filter(post_id=post_id).select_related("route").order_by("pk"):
        summary[d.route.network] = {"status": d.status, "url": d.url, "error": d.error}
    return summary


def deliveries_plan(*, post: Post) -> list[Delivery]:
    """Create the post's deliveries (inside the storing transaction); sent after commit."""
    if not networks_on() or post.source != Source.APP or post.author_id is None:
        return []
    routes = list(
        JamNetwork.objects.filter(jam_id=post.jam_id, enabled=True, network__in=OTHER_NETWORKS)
        .select_related("poster")
        .order_by("pk")
    )
    routes = [r for r in routes if gateway_for(r.network).available()]
    if not routes:
        return []
    accounts = list(
        LinkedAccount.objects.filter(user_id=post.author_id, revoked_at__isnull=True).order_by("pk")
    )
    planned: list[Delivery] = []
    networks_done: set[str] = set()
    now = timezone.now()
    for route in routes:
        account = _account_for(post, route, accounts)
        if account is None or route.network in networks_done:
            continue
        networks_done.add(route.network)
        gateway = gateway_for(route.network)
        text = text_for(post, route)
        # The account's own server counts (a Mastodon account elsewhere than the jam's
        # instance posts there, within that instance's limit).
        rules = gateway.rules(account.service)
        length = gateway.count(text, account.service)
        status = DeliveryStatus.QUEUED if post.status == PostStatus.VISIBLE else DeliveryStatus.HELD
        error = ""
        if length > rules.limit:
            status = DeliveryStatus.FAILED
            error = (
                f"Too long for {gateway.label}: {length} of {rules.limit} "
                f"({rules.counts}). It went to the other networks."
            )
        key = delivery_key(post)
        planned.append(
            Delivery.objects.create(
                post=post,
                route=route,
                account=account,
                status=status,
                key=key,
                remote_id=gateway.expected_id(account, key),
                error=error,
                next_attempt_at=now,
            )
        )
    if planned:
        post.elsewhere = {**post.elsewhere, **deliveries_summary(post.pk)}
        Post.objects.filter(pk=post.pk).update(elsewhere=post.elsewhere)
        queued = [d.pk for d in planned if d.status == DeliveryStatus.QUEUED]
        transaction.on_commit(lambda: _task_send(queued))
    return planned


def deliveries_release(*, post: Post) -> None:
    """Moderation just showed a held post (inside its transaction): its deliveries go."""
    if post.status != PostStatus.VISIBLE:
        return
    held = list(
        Delivery.objects.filter(post_id=post.pk, status=DeliveryStatus.HELD).values_list(
            "pk", flat=True
        )
    )
    if not held:
        return
    Delivery.objects.filter(pk__in=held).update(
        status=DeliveryStatus.QUEUED, next_attempt_at=timezone.now()
    )
    post.elsewhere = {**post.elsewhere, **deliveries_summary(post.pk)}
    Post.objects.filter(pk=post.pk).update(elsewhere=post.elsewhere)
    transaction.on_commit(lambda: _task_send(held))


def _task_send(delivery_ids: list[int]) -> None:
    from jamhost.networks import sweep
    from jamhost.networks.tasks import deliver

    if sweep.embedded_loop_running or not delivery_ids:
        return  # the embedded server's loop sends them within SWEEP_INTERVAL
    for delivery_id in delivery_ids:
        try:
            deliver.delay(delivery_id)
        except Exception:  # the broker is down: stored and queued; the sweep sends it
            log.warning("could not enqueue delivery %s; the sweep will", delivery_id)
            return


# One attempt ------------------------------------------------------------------------------


def _claim(delivery_id: int, now: datetime) -> Delivery | None:
    lease = timedelta(seconds=settings.NETWORK_TIMEOUT * 3 + 5)
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("route", "account", "post", "post__jam")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.QUEUED:
            return None
        if delivery.lease_until is not None and delivery.lease_until > now:
            return None
        delivery.lease_until = now + lease
        delivery.attempts += 1
        delivery.save(update_fields=["lease_until", "attempts", "updated_at"])
    return delivery


def _settle(delivery: Delivery, **fields: Any) -> None:
    """Record the delivery's new state and show it on every screen (a new rev)."""
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            lease_until=None, updated_at=timezone.now(), **fields
        )
        post_network_set(delivery.post_id, elsewhere_part=deliveries_summary(delivery.post_id))


def _later(delivery: Delivery, *, when: datetime, reason: str, counted: bool = True) -> str:
    """Try again at `when`; an attempt the network did not act on (a 429, a token to
    renew) is not one of the MAX_ATTEMPTS."""
    note = f"{reason}; trying again at {when:%H:%M:%S} UTC"[:300]
    fields: dict[str, Any] = {} if counted else {"attempts": max(delivery.attempts - 1, 0)}
    _settle(delivery, next_attempt_at=when, error=note, **fields)
    log.info("delivery %s not published yet: %s", delivery.pk, note)
    return "retry"


def _fail(delivery: Delivery, reason: str) -> str:
    _settle(delivery, status=DeliveryStatus.FAILED, error=reason[:300])
    log.warning("delivery %s failed: %s", delivery.pk, reason)
    return "failed"


def _parent_ref(post: Post, route: JamNetwork) -> str:
    """What `post` replies to on the route's network: the post it answers, read from that
    network or published there by jamhost (on this route first); "" when it answers
    nothing there, and it goes out on its own."""
    if post.reply_to_id is None:
        return ""
    parent = Post.objects.filter(pk=post.reply_to_id).values("source", "external_id").first()
    if parent is None:
        return ""
    if parent["source"] == route.network:
        return str(parent["external_id"])
    published = (
        Delivery.objects.filter(
            post_id=post.reply_to_id,
            route__network=route.network,
            status=DeliveryStatus.PUBLISHED,
        )
        .exclude(remote_id="")
        .order_by(Case(When(route_id=route.pk, then=0), default=1), "pk")
        .values_list("remote_id", flat=True)
        .first()
    )
    return published or ""


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> str:
    """Publish one queued delivery. Safe to run any number of times, concurrently too:
    the lease keeps attempts apart and the key makes a resend harmless. Returns
    "published", "retry", "failed", "held" or "skipped". Never raises for a network's
    failures."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return "skipped"
    post, route, account = delivery.post, delivery.route, delivery.account
    gateway = gateway_for(route.network)
    if post.status != PostStatus.VISIBLE:
        _settle(delivery, status=DeliveryStatus.HELD, error="")
        return "held"
    if account is None or account.is_revoked:
        return _fail(delivery, f"Link your {gateway.label} account again, then press Retry.")
    if not gateway.available():
        return _fail(delivery, f"{gateway.label} is switched off on this site.")
    if delivery.attempts > MAX_ATTEMPTS:
        return _fail(delivery, f"{gateway.label} did not answer. Press Retry.")
    try:
        token = gateway.access_token(account)
        published = gateway.publish(
            account=account,
            token=token,
            text=text_for(post, route),
            key=delivery.key,
            reply_to=_parent_ref(post, route),
        )
    except RemoteRateLimited as exc:
        return _later(
            delivery,
            when=max(now, min(exc.reset_at, now + MAX_RATE_WAIT)),
            reason=exc.reason,
            counted=False,
        )
    except RemoteExpired as exc:
        return _later(delivery, when=now, reason=exc.reason)
    except RemoteUnauthorized as exc:
        LinkedAccount.objects.filter(pk=account.pk).update(
            revoked_at=now, revoked_reason=exc.reason[:200]
        )
        log.warning("delivery %s: account %s refused: %s", delivery.pk, account.pk, exc.reason)
        return _fail(delivery, f"Link your {gateway.label} account again, then press Retry.")
    except RemoteRefused as exc:
        return _fail(delivery, f"{gateway.label} refused it: {exc.reason}")
    except RemoteError as exc:
        if delivery.attempts >= MAX_ATTEMPTS:
            return _fail(delivery, f"{gateway.label} did not answer ({exc.reason}). Press Retry.")
        return _later(delivery, when=now + backoff(delivery.attempts), reason=exc.reason)
    except Exception as exc:  # nothing a network sends may lose the post
        log.exception("delivery %s: unexpected failure", delivery.pk)
        return _later(
            delivery,
            when=now + backoff(delivery.attempts),
            reason=f"unexpected {type(exc).__name__}",
        )
    _settle(
        delivery,
        status=DeliveryStatus.PUBLISHED,
        remote_id=published.remote_id[:300],
        url=published.url[:500],
        error="",
    )
    NetworkCursor.objects.get_or_create(route=route)
    NetworkCursor.objects.filter(route=route).update(creates=F("creates") + 1)
    return "published"


def delivery_retry(*, post: Post, actor: Any, network: str) -> Delivery:
    """Queue a failed delivery again (its author, the host or a moderator)."""
    if not (actor and actor.is_authenticated):
        raise PermissionDenied("Sign in to retry.")
    if post.author_id != actor.pk and not can_moderate(user=actor, jam=post.jam):
        raise PermissionDenied("Only the author, the host or a moderator can retry this post.")
    delivery = Delivery.objects.filter(post=post, route__network=network).first()
    if delivery is None or delivery.status != DeliveryStatus.FAILED:
        raise ValidationError("Only a post that failed to reach that network can be retried.")
    account = delivery.account
    if account is None or account.is_revoked:
        # Linked again since (a new account row, or the same one renewed)?
        current = LinkedAccount.objects.filter(
            user_id=post.author_id or 0, revoked_at__isnull=True
        ).order_by("pk")
        account = _account_for(post, delivery.route, list(current))
        if account is None:
            raise ValidationError("The author's account there is not linked. Link it, then retry.")
        delivery.account = account
        Delivery.objects.filter(pk=delivery.pk).update(account=account)
    # Counted where it goes out from: the account's own server, as when it was planned.
    length = gateway_for(network).count(text_for(post, delivery.route), account.service)
    if length > gateway_for(network).rules(account.service).limit:
        raise ValidationError(delivery.error or "It is too long for that network.")
    _settle(
        delivery,
        status=DeliveryStatus.QUEUED,
        attempts=0,
        error="",
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: _task_send([delivery.pk]))
    delivery.refresh_from_db()
    return delivery


def deliveries_due(*, now: datetime, limit: int = 200) -> list[int]:
    """Queued deliveries whose attempt is due and not leased."""
    return list(
        Delivery.objects.filter(status=DeliveryStatus.QUEUED, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
