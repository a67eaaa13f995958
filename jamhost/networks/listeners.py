"""Live delivery from Bluesky and Mastodon, beside the search polls (networks.cursors).

One supervisor (`listeners_run`: the `networks_listen` process, or a thread of the
embedded server) keeps

- one Jetstream connection (BLUESKY_JETSTREAM_URL) for the hashtags of every enabled
  Bluesky route of the jams in their ingest window. A post is stored in each route whose
  tag it carries, a deletion applied to every Bluesky route. The Jetstream cursor
  (time_us) is saved in each route's NetworkCursor.stream_position after the event is
  stored, so a restart resumes from the smallest saved position, REWIND_US earlier:
  nothing is lost, and what arrives twice the store recognises (networks.remote_store).
- one hashtag stream per enabled Mastodon route (MASTODON_STREAMING), read with the token
  of the route's reader account on that instance, else anonymously.

Every REFRESH_SECONDS the routes are read again: jams entering their ingest window are
listened to, jams leaving it no longer. An event that cannot be read is logged with its
reason and skipped; an exception while storing one is logged; neither stops a listener.
The search polls keep running beside the streams and catch what a stream missed (a gap
while a Mastodon stream reconnects, which has no cursor).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from jamhost.networks.bluesky.client import profile_get
from jamhost.networks.bluesky.jetstream import JetstreamEvent, Skipped, jetstream_listen
from jamhost.networks.cursors import reader_account
from jamhost.networks.gateway import gateway_for
from jamhost.networks.ingest import ingest_window
from jamhost.networks.mastodon.streaming import StreamItem, stream_listen
from jamhost.networks.models import JamNetwork, LinkedAccount, Network, NetworkCursor
from jamhost.networks.remote import (
    RemoteAuthor,
    RemoteDeletion,
    RemoteError,
    RemotePost,
    RemoteUnauthorized,
)
from jamhost.networks.remote_store import StoreResult, remote_delete, remote_upsert, route_tag
from jamhost.posts.models import Post

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
# A restart resumes this far (microseconds) before the saved Jetstream position.
REWIND_US = 5_000_000
# Without a stored post, the position is saved at most this often (a quiet tag on a busy
# network would otherwise write for every deletion Jetstream sends).
POSITION_EVERY = 5.0
# How often a listener's thread drops a database connection gone stale (a restart).
CONNECTION_CHECK_EVERY = 10.0
PROFILES_MAX = 2000
# After a profile look-up fails, authors stay DIDs this long before the next look-up: an
# AppView that is down costs the stream one timeout per pause, not one per new author.
PROFILE_PAUSE = 30.0
STOP_WAIT = 5.0


def listening_configured() -> bool:
    """Whether this install delivers anything live (Jetstream, Mastodon's streaming)."""
    return bool(
        (settings.BLUESKY_ENABLED and settings.BLUESKY_JETSTREAM_URL)
        or (settings.MASTODON_ENABLED and settings.MASTODON_STREAMING)
    )


def listened_routes(*, now: datetime) -> list[JamNetwork]:
    """Enabled routes of jams in their ingest window on networks that stream here."""
    networks = []
    if settings.BLUESKY_ENABLED and settings.BLUESKY_JETSTREAM_URL:
        networks.append(Network.BLUESKY)
    if settings.MASTODON_ENABLED and settings.MASTODON_STREAMING:
        networks.append(Network.MASTODON)
    if not networks:
        return []
    routes = JamNetwork.objects.filter(
        jam_id__in=ingest_window(now=now), enabled=True, network__in=networks
    )
    return list(routes.select_related("jam", "poster").order_by("pk"))


@dataclass
class _Jetstream:
    stop: threading.Event
    tags: frozenset[str]
    route_ids: frozenset[int]
    thread: threading.Thread | None = None
    last: list[int | None] = field(default_factory=list)  # what jetstream_listen returned


@dataclass
class _MastodonStream:
    stop: threading.Event
    key: tuple[str, str, str]  # instance, tag, token ("" reads anonymously)
    thread: threading.Thread | None = None


class Listeners:
    """The live connections for the routes `refresh` last read; `close` ends them all."""

    def __init__(
        self,
        *,
        rewind_us: int = REWIND_US,
        jetstream_backoff: float = 30.0,
        mastodon_retry: float = 1.0,
    ) -> None:
        self.rewind_us = rewind_us
        self.jetstream_backoff = jetstream_backoff
        self.mastodon_retry = mastodon_retry
        self.lock = threading.Lock()
        self.bluesky: dict[str, list[int]] = {}  # tag -> Bluesky route ids
        self.bluesky_jams: dict[int, int] = {}  # Bluesky route id -> its jam's id
        self.jetstream: _Jetstream | None = None
        self.mastodon: dict[int, _MastodonStream] = {}
        self._refused: set[str] = set()  # Mastodon tokens a stream answered 401/403 to
        # DID -> (author, monotonic time until which a failed look-up is not tried again)
        self._profiles: OrderedDict[str, tuple[RemoteAuthor, float]] = OrderedDict()
        self._profiles_paused_until = 0.0
        self._reader: LinkedAccount | None = None
        self._saved_at = 0.0
        self._checked_at = 0.0

    # The routes ------------------------------------------------------------------------

    def refresh(self, *, now: datetime | None = None) -> None:
        routes = listened_routes(now=now or timezone.now())
        self._bluesky_refresh([r for r in routes if r.network == Network.BLUESKY])
        self._mastodon_refresh([r for r in routes if r.network == Network.MASTODON])

    def close(self) -> None:
        deadline = time.monotonic() + STOP_WAIT
        for stream in self.mastodon.values():
            stream.stop.set()
        self._jetstream_stop(deadline)
        for stream in self.mastodon.values():
            if stream.thread is not None:
                stream.thread.join(timeout=max(deadline - time.monotonic(), 0.1))
        self.mastodon = {}

    # Bluesky: one Jetstream connection --------------------------------------------------

    def _bluesky_refresh(self, routes: list[JamNetwork]) -> None:
        by_tag: dict[str, list[int]] = {}
        for route in routes:
            by_tag.setdefault(route_tag(route), []).append(route.pk)
            NetworkCursor.objects.get_or_create(route_id=route.pk)
        jams = {r.pk: r.jam_id for r in routes}
        self._reader = next((a for r in routes if (a := reader_account(r)) is not None), None)
        tags = frozenset(by_tag)
        running = self.jetstream
        if running is not None and running.tags == tags and _alive(running.thread):
            with self.lock:
                self.bluesky, self.bluesky_jams = by_tag, jams
            return
        self._jetstream_stop(time.monotonic() + STOP_WAIT)
        with self.lock:
            self.bluesky, self.bluesky_jams = by_tag, jams
        if not tags:
            return
        route_ids = frozenset(r.pk for r in routes)
        self._jetstream_start(tags, route_ids, self._resume_at(route_ids))

    def _resume_at(self, route_ids: frozenset[int]) -> int | None:
        saved = NetworkCursor.objects.filter(route_id__in=route_ids).values_list(
            "stream_position", flat=True
        )
        positions = [int(p) for p in saved if p.isdigit()]
        return max(min(positions) - self.rewind_us, 0) if positions else None

    def _jetstream_start(
        self, tags: frozenset[str], route_ids: frozenset[int], cursor_us: int | None
    ) -> None:
        listener = _Jetstream(stop=threading.Event(), tags=tags, route_ids=route_ids)

        def run() -> None:
            try:
                listener.last.append(
                    jetstream_listen(
                        url=settings.BLUESKY_JETSTREAM_URL,
                        cursor_us=cursor_us,
                        tags=set(tags),
                        on_event=self._jetstream_event,
                        stop=listener.stop,
                        max_backoff=self.jetstream_backoff,
                    )
                )
            except Exception:
                log.exception("Jetstream listener ended; the next refresh starts it again")
            finally:
                connections.close_all()

        log.info("Jetstream: listening for %s from %s", sorted(tags), cursor_us or "now")
        listener.thread = threading.Thread(target=run, name="jetstream-listener", daemon=True)
        self.jetstream = listener
        listener.thread.start()

    def _jetstream_stop(self, deadline: float) -> None:
        listener, self.jetstream = self.jetstream, None
        if listener is None or listener.thread is None:
            return
        listener.stop.set()
        listener.thread.join(timeout=max(deadline - time.monotonic(), 0.1))
        if listener.thread.is_alive():
            log.warning("Jetstream listener did not stop in time; it ends on its own")
            return
        last = listener.last[0] if listener.last else None
        if last is not None:  # every event up to here was handled, stored or not wanted
            NetworkCursor.objects.filter(route_id__in=listener.route_ids).update(
                stream_position=str(last)
            )

    def _jetstream_event(self, event: JetstreamEvent, time_us: int) -> None:
        if isinstance(event, Skipped):
            log.info("Jetstream: skipped a message: %s", event.reason)
            return
        try:
            if time.monotonic() - self._checked_at >= CONNECTION_CHECK_EVERY:
                close_old_connections()  # a long-lived thread: drop a connection gone stale
                self._checked_at = time.monotonic()
            if isinstance(event, RemotePost):
                changed = self._bluesky_store(event)
            else:
                changed = self._bluesky_delete(event)
            self._position_save(time_us, now=changed)
        except Exception:
            log.exception("Jetstream: %s could not be stored", event.remote_id[:80])
            connections.close_all()  # the next event starts on a fresh connection

    def _bluesky_store(self, post: RemotePost) -> bool:
        with self.lock:
            ids = {i for tag in post.tags for i in self.bluesky.get(tag.lower(), [])}
        if not ids:
            return False
        post = replace(post, author=self._profile(post.author))
        result = StoreResult()
        for route in JamNetwork.objects.filter(pk__in=ids).select_related("jam").order_by("pk"):
            try:
                remote_upsert(route, post, result)
            except Exception:
                log.exception("jam %s bluesky stream: %s not stored", route.jam_id, post.remote_id)
        for reason in result.skipped:
            log.info("bluesky stream: %s", reason)
        return bool(result.stored or result.edited)

    def _bluesky_delete(self, deletion: RemoteDeletion) -> bool:
        with self.lock:
            jams = dict(self.bluesky_jams)
        if not jams:
            return False
        # Jetstream sends every deletion on Bluesky: one query finds the jams that have it.
        holding = set(
            Post.objects.filter(
                jam_id__in=set(jams.values()),
                source=Network.BLUESKY,
                external_id=deletion.remote_id,
            ).values_list("jam_id", flat=True)
        )
        if not holding:
            return False
        result = StoreResult()
        routes = [route_id for route_id, jam_id in jams.items() if jam_id in holding]
        for route in JamNetwork.objects.filter(pk__in=routes).order_by("pk"):
            remote_delete(route, deletion, result)
        return result.deleted > 0

    def _position_save(self, time_us: int, *, now: bool) -> None:
        moment = time.monotonic()
        if not now and moment - self._saved_at < POSITION_EVERY:
            return
        with self.lock:
            ids = list(self.bluesky_jams)
        NetworkCursor.objects.filter(route_id__in=ids).update(stream_position=str(time_us))
        self._saved_at = moment

    def _profile(self, author: RemoteAuthor) -> RemoteAuthor:
        """Jetstream names the author by DID: the handle and name from the AppView (kept).
        An author whose profile cannot be read stays a DID, and is looked up again after
        PROFILE_PAUSE; meanwhile nobody is looked up (the stream does not wait on an
        AppView that is down)."""
        if author.handle != author.remote_id:
            return author
        moment = time.monotonic()
        kept = self._profiles.get(author.remote_id)
        if kept is not None and (kept[1] == 0.0 or moment < kept[1]):
            return kept[0]
        if moment < self._profiles_paused_until:
            return author
        found, retry_at = author, 0.0
        try:
            reader = self._reader
            token = gateway_for(Network.BLUESKY).access_token(reader) if reader else ""
            found = profile_get(
                appview=settings.BLUESKY_SERVICE,
                token=token,
                actor=author.remote_id,
                timeout=settings.NETWORK_TIMEOUT,
            )
        except RemoteError as exc:
            log.info("Jetstream: no profile for %s (%s)", author.remote_id, exc.reason)
            retry_at = self._profiles_paused_until = time.monotonic() + PROFILE_PAUSE
        self._profiles[author.remote_id] = (found, retry_at)
        while len(self._profiles) > PROFILES_MAX:
            self._profiles.popitem(last=False)
        return found

    # Mastodon: one hashtag stream per route ---------------------------------------------

    def _mastodon_refresh(self, routes: list[JamNetwork]) -> None:
        wanted: dict[int, tuple[str, str, str]] = {}
        for route in routes:
            if not route.service:
                log.warning("route %s: a Mastodon route without an instance", route.pk)
                continue
            wanted[route.pk] = (route.service, route_tag(route), self._mastodon_token(route))
        for route_id, stream in list(self.mastodon.items()):
            if wanted.get(route_id) != stream.key or not _alive(stream.thread):
                stream.stop.set()
                del self.mastodon[route_id]
        for route_id, key in wanted.items():
            if route_id not in self.mastodon:
                self._mastodon_start(route_id, key)

    def _mastodon_token(self, route: JamNetwork) -> str:
        """The reader's token on the route's instance; "" (anonymous) when there is none."""
        account = reader_account(route)
        if account is None or account.service.rstrip("/") != route.service.rstrip("/"):
            account = (
                LinkedAccount.objects.filter(
                    user_id=route.jam.host_id,
                    network=Network.MASTODON,
                    service=route.service,
                    revoked_at__isnull=True,
                )
                .order_by("pk")
                .first()
            )
        if account is None:
            return ""
        try:
            token = gateway_for(Network.MASTODON).access_token(account)
        except RemoteError as exc:
            log.info("route %s: reading anonymously (%s)", route.pk, exc.reason)
            return ""
        return "" if token in self._refused else token

    def _mastodon_start(self, route_id: int, key: tuple[str, str, str]) -> None:
        instance, tag, token = key
        stream = _MastodonStream(stop=threading.Event(), key=key)

        def on_error(exc: RemoteError) -> None:
            log.warning("route %s Mastodon stream: %s", route_id, exc.reason)
            if isinstance(exc, RemoteUnauthorized) and token:
                self._refused.add(token)  # the next refresh listens anonymously

        log.info("route %s: listening to #%s on %s", route_id, tag, instance)
        stream.thread = stream_listen(
            instance,
            token or None,
            tag,
            lambda item: self._mastodon_event(route_id, item),
            stream.stop,
            on_error=on_error,
            timeout=settings.NETWORK_TIMEOUT,
            retry_wait=self.mastodon_retry,
            retry_max=max(self.mastodon_retry, 60.0),
        )
        self.mastodon[route_id] = stream

    def _mastodon_event(self, route_id: int, item: StreamItem) -> None:
        try:
            route = JamNetwork.objects.select_related("jam").filter(pk=route_id).first()
            if route is None:
                return
            result = StoreResult()
            if isinstance(item, RemotePost):
                remote_upsert(route, item, result)
            else:
                remote_delete(route, item, result)
            for reason in result.skipped:
                log.info("jam %s mastodon stream: %s", route.jam_id, reason)
        except Exception:
            log.exception("route %s Mastodon stream: %s not stored", route_id, item.remote_id)
        finally:
            connections.close_all()  # the stream's thread is not ours to end


def _alive(thread: threading.Thread | None) -> bool:
    return thread is not None and thread.is_alive()


def listeners_run(
    *,
    stop: threading.Event,
    refresh_every: float = REFRESH_SECONDS,
    rewind_us: int = REWIND_US,
    jetstream_backoff: float = 30.0,
    mastodon_retry: float = 1.0,
) -> None:
    """Keep the live connections in step with the routes until `stop` is set, then close
    them (within STOP_WAIT seconds)."""
    listeners = Listeners(
        rewind_us=rewind_us, jetstream_backoff=jetstream_backoff, mastodon_retry=mastodon_retry
    )
    try:
        while True:
            try:
                close_old_connections()
                listeners.refresh()
            except Exception:
                log.exception("listeners: the routes could not be read; trying again")
            if stop.wait(refresh_every):
                break
    finally:
        listeners.close()
        connections.close_all()


def listeners_thread(
    *, stop: threading.Event, refresh_every: float = REFRESH_SECONDS
) -> threading.Thread:
    """`listeners_run` on a daemon thread (the embedded server's)."""
    thread = threading.Thread(
        target=listeners_run,
        kwargs={"stop": stop, "refresh_every": refresh_every},
        name="network-listeners",
    )
    thread.daemon = True
    thread.start()
    return thread
