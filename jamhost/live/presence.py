"""Viewer counts for hosts and moderators. Each process counts its own sockets; with
Redis, processes share their counts in a hash that expires if a process dies."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.html import format_html

from jamhost.posts.render import MODERATOR, VIEWER

if TYPE_CHECKING:
    from jamhost.live.fanout import Hub

COUNT_TTL = 30


def viewer_count_fragment(count: int) -> str:
    label = "viewer" if count == 1 else "viewers"
    return format_html('<span id="viewer-count" class="viewer-count">{} {}</span>', count, label)


def _fresh_count(value: bytes, now: int) -> int:
    """A process's count, or 0 when it stopped refreshing it (the process died)."""
    count, _, stamp = value.decode().partition(":")
    return int(count) if stamp and now - int(stamp) <= COUNT_TTL else 0


async def presence_tick(hub: Hub) -> None:
    """Share this process's counts and send each jam's total to its moderators."""
    from jamhost.live.fanout import PROCESS_ID

    jam_ids = sorted({jam_id for jam_id, _ in hub.groups})
    local = {jam_id: hub.count(jam_id, VIEWER) + hub.count(jam_id, MODERATOR) for jam_id in jam_ids}
    totals = dict(local)
    if settings.REDIS_URL and hub.source is not None and hub.source.client is not None:
        client = hub.source.client
        now = int(time.time())
        pipe = client.pipeline(transaction=False)
        for jam_id, count in local.items():
            key = f"{settings.CHANNEL_PREFIX}:viewers:{jam_id}"
            pipe.hset(key, PROCESS_ID, f"{count}:{now}")
            pipe.expire(key, COUNT_TTL)
            pipe.hvals(key)
        results = await pipe.execute()
        for index, jam_id in enumerate(local):
            values = results[index * 3 + 2]
            totals[jam_id] = sum(_fresh_count(v, now) for v in values)
    for jam_id, total in totals.items():
        hub.broadcast(jam_id, MODERATOR, viewer_count_fragment(total))
