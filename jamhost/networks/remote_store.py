"""Storing posts read from Bluesky and Mastodon in a jam, whichever path found them (tag
search, Jetstream, the streaming API): one jamhost post per network post per jam, an edit
updating its post in place, a deletion removing it, and jamhost's own publications
recognised instead of stored twice.

Text arrives as plain text (each network's client turned HTML into text). Anything odd in a
post is skipped with a logged reason; nothing in a post stops the ones after it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from jamhost.jams.answers import answer_number
from jamhost.jams.models import Jam
from jamhost.networks.deliveries import deliveries_summary, text_for
from jamhost.networks.models import Delivery, DeliveryStatus, JamNetwork, LinkedAccount
from jamhost.networks.post_state import post_network_set
from jamhost.networks.remote import RemoteDeletion, RemotePost
from jamhost.networks.tweets import printable as _printable
from jamhost.posts.models import AuthorRole, Post, PostStatus
from jamhost.posts.services import MAX_BODY_CHARS, post_insert

log = logging.getLogger(__name__)

# How far a network post's time may lie before the publish that made it.
CLOCK_SKEW = timedelta(minutes=2)
_SPACES = re.compile(r"\s+")


@dataclass
class StoreResult:
    stored: int = 0
    duplicates: int = 0
    edited: int = 0
    deleted: int = 0
    skipped: list[str] = field(default_factory=list)


def _web(url: str) -> str:
    return url[:500] if url.startswith(("https://", "http://")) else ""


def route_tag(route: JamNetwork) -> str:
    return (route.hashtag or route.jam.hashtag).lower()


def _same(a: str, b: str) -> bool:
    return _SPACES.sub(" ", a).strip().casefold() == _SPACES.sub(" ", b).strip().casefold()


def _members(jam: Jam, network: str) -> dict[str, tuple[Any, str]]:
    """Remote account id -> (jamhost user, role) for the jam's host and members."""
    roles = {m.user_id: m.role for m in jam.memberships.all()}
    roles.setdefault(jam.host_id, AuthorRole.HOST)
    accounts = LinkedAccount.objects.filter(user_id__in=roles, network=network).select_related(
        "user"
    )
    return {a.remote_id: (a.user, roles[a.user_id]) for a in accounts}


def _own_publication(route: JamNetwork, remote: RemotePost) -> Delivery | None:
    """The delivery that published this post: known by id (Bluesky: chosen before the
    call), or, when the answer was lost (Mastodon), by its account and text."""
    found = (
        Delivery.objects.filter(route__jam_id=route.jam_id, remote_id=remote.remote_id)
        .select_related("post")
        .first()
    )
    if found is not None:
        return found
    waiting = (
        Delivery.objects.filter(
            route__jam_id=route.jam_id,
            route__network=route.network,
            account__remote_id=remote.author.remote_id,
            remote_id="",
            status__in=[DeliveryStatus.QUEUED, DeliveryStatus.FAILED],
            created_at__lte=remote.created_at + CLOCK_SKEW,
        )
        .select_related("post", "post__jam", "route")
        .order_by("pk")
    )
    return next((d for d in waiting if _same(text_for(d.post, d.route), remote.text)), None)


def remote_upsert(route: JamNetwork, remote: RemotePost, result: StoreResult) -> Post | None:
    """Store one network post in the route's jam, once."""
    jam = route.jam
    if route_tag(route) not in {t.lower() for t in remote.tags}:
        result.skipped.append(f"{remote.remote_id[:80]}: does not carry #{route_tag(route)}")
        return None
    text = _printable(remote.text).strip()
    if not text:
        result.skipped.append(f"{remote.remote_id[:80]}: no text")
        return None
    if len(text) > MAX_BODY_CHARS:
        result.skipped.append(f"{remote.remote_id[:80]}: text cut to {MAX_BODY_CHARS}")
        text = text[: MAX_BODY_CHARS - 1] + "…"
    own = _own_publication(route, remote)
    if own is not None:
        if own.status != DeliveryStatus.PUBLISHED or own.remote_id != remote.remote_id:
            with transaction.atomic():
                Delivery.objects.filter(pk=own.pk).update(
                    status=DeliveryStatus.PUBLISHED,
                    remote_id=remote.remote_id[:300],
                    url=_web(remote.url),
                    error="",
                    lease_until=None,
                )
                post_network_set(own.post_id, elsewhere_part=deliveries_summary(own.post_id))
        result.duplicates += 1
        return None
    stored = Post.objects.filter(
        jam=jam, source=route.network, external_id=remote.remote_id
    ).first()
    if stored is not None:
        deleted = stored.status == PostStatus.HIDDEN and not stored.text
        if deleted or _same(stored.text, text):
            result.duplicates += 1
            return None
        number = answer_number(text)
        fields: dict[str, Any] = {
            "text": text,
            "body": text,
            "links": list(remote.links),
            "edited_at": remote.edited_at or timezone.now(),
        }
        if number is not None and stored.kind == "post":
            fields["question"] = jam.questions.filter(number=number).first()
        result.edited += 1
        return post_network_set(stored.pk, **fields)
    return _insert(route, remote, text, result)


def _reply_target(jam: Jam, remote_id: str) -> Post | None:
    """The jam's post a reply answers: a network post, or jamhost's own publication.

    A Mastodon parent outside the page is named by its id on the instance
    (".../api/v1/statuses/<id>"); a local status's URI and web address end in that id."""
    post = Post.objects.filter(jam=jam, external_id=remote_id).select_related("question").first()
    if post is None:
        own = (
            Delivery.objects.filter(route__jam_id=jam.pk, remote_id=remote_id)
            .select_related("post__question")
            .first()
        )
        post = own.post if own is not None else None
    base, _, local_id = remote_id.partition("/api/v1/statuses/")
    if post is None and base and local_id.isdigit():
        post = (
            Post.objects.filter(jam=jam, external_id__startswith=f"{base}/")
            .filter(external_id__endswith=f"/statuses/{local_id}")
            .select_related("question")
            .first()
        )
        if post is None:
            own = (
                Delivery.objects.filter(
                    route__jam_id=jam.pk,
                    remote_id__startswith=f"{base}/",
                    remote_id__endswith=f"/statuses/{local_id}",
                )
                .select_related("post__question")
                .first()
            )
            post = own.post if own is not None else None
    return post


def _insert(route: JamNetwork, remote: RemotePost, text: str, result: StoreResult) -> Post | None:
    jam = route.jam
    member = _members(jam, route.network).get(remote.author.remote_id)
    reply_to = _reply_target(jam, remote.reply_to) if remote.reply_to else None
    number = answer_number(text)
    question = jam.questions.filter(number=number).first() if number is not None else None
    if question is None and reply_to is not None and reply_to.question is not None:
        question = reply_to.question
    handle = _printable(remote.author.handle)[:80] or "unknown"
    avatar = _printable(remote.author.avatar_url)
    try:
        with transaction.atomic():
            post = post_insert(
                jam=jam,
                body=text,
                text=text,
                author=member[0] if member is not None else None,
                author_key=None
                if member is not None
                else f"{route.network}:{remote.author.remote_id}"[:80],
                author_handle=handle,
                author_name=_printable(remote.author.display_name)[:120],
                author_avatar_url=avatar[:500] if avatar.startswith("https://") else "",
                author_role=member[1] if member is not None else AuthorRole.PARTICIPANT,
                question=question,
                source=route.network,
                external_id=remote.remote_id[:300],
                now=remote.created_at,
                links=[link for link in remote.links if _web(link)][:20],
                lang=_printable(remote.lang)[:12],
                reply_to=reply_to,
                remote_url=_web(remote.url),
                author_url=_web(remote.author.profile_url),
            )
    except IntegrityError:
        result.duplicates += 1  # another poll (or the stream) stored it a moment ago
        return None
    except DataError as exc:
        result.skipped.append(f"{remote.remote_id[:80]}: not storable ({exc.__class__.__name__})")
        return None
    result.stored += 1
    return post


def remote_delete(route: JamNetwork, deletion: RemoteDeletion, result: StoreResult) -> None:
    """Its author deleted it on the network: the post leaves the jam (text cleared)."""
    posts = Post.objects.filter(jam_id=route.jam_id, source=route.network)
    stored = posts.filter(external_id=deletion.remote_id).first()
    local_id = deletion.remote_id.rpartition("/api/v1/statuses/")[2]
    if stored is None and "/api/v1/statuses/" in deletion.remote_id and local_id.isdigit():
        # A stream's delete names the instance's own id; the post is kept by its URI.
        stored = posts.filter(remote_url__endswith=f"/{local_id}").first()
    if stored is None or (stored.status == PostStatus.HIDDEN and stored.text == ""):
        return
    label = route.get_network_display()
    post_network_set(
        stored.pk,
        status=PostStatus.HIDDEN,
        status_reason=f"deleted on {label} by its author",
        text="",
        body="",
        links=[],
        pinned=False,
        featured=False,
    )
    result.deleted += 1


def _threaded(posts: list[RemotePost]) -> list[RemotePost]:
    """Oldest first, each post after the one it replies to when both are in the page."""
    by_id = {p.remote_id: p for p in posts}
    ordered: list[RemotePost] = []
    placed: set[str] = set()
    for remote in sorted(posts, key=lambda p: p.created_at):
        chain = []
        while remote.remote_id not in placed:
            chain.append(remote)
            placed.add(remote.remote_id)
            parent = by_id.get(remote.reply_to)
            if parent is None:
                break
            remote = parent
        ordered.extend(reversed(chain))
    return ordered


def page_store(
    route: JamNetwork, posts: list[RemotePost], deletions: list[RemoteDeletion], result: StoreResult
) -> None:
    """Store one page (oldest first, so seq follows time, and a reply after the post it
    answers even when their times tie or disagree), then its deletions."""
    for remote in _threaded(posts):
        try:
            remote_upsert(route, remote, result)
        except DataError as exc:
            result.skipped.append(
                f"{remote.remote_id[:80]}: not storable ({exc.__class__.__name__})"
            )
    for deletion in deletions:
        remote_delete(route, deletion, result)
    for reason in result.skipped:
        log.info("jam %s %s ingest: %s", route.jam_id, route.network, reason)
