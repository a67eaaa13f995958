"""Carries rendered frames from the process that committed a change to every process that
has sockets for the jam.

- Production (REDIS_URL set): one Redis PUBLISH per audience, on channel
  `<CHANNEL_PREFIX>:live:<jam>:<audience>`, payload
  `<rev>@<publish time>|<key>=<chars>,…:<html>` (live.frames.frame_encode: the time, in
  epoch seconds, gives the delivery-lag metric; each part's key and length let the hub
  keep parts without parsing the html). Each web process holds one subscription
  (jamhost.live.fanout.Hub) and writes the text to its local sockets.
- Embedded default: straight into this process's hubs, on their event loops.
- LIVE_FANOUT=layer: through the Channels layer's group_send to every consumer (the design
  measured as too slow; kept so the benchmark can compare).

Publishing never raises: the change is committed, and screens that miss a frame resync
from the database (the hub notices the gap, or its periodic check does).
"""

from __future__ import annotations

import logging
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from jamhost.live.frames import Frame, frame_encode, frame_text
from jamhost.shared_redis import redis_client

log = logging.getLogger(__name__)


def channel_name(jam_id: int, audience: str) -> str:
    return f"{settings.CHANNEL_PREFIX}:live:{jam_id}:{audience}"


def layer_group(jam_id: int, audience: str) -> str:
    return f"live.{jam_id}.{audience}"


def user_group(jam_id: int, user_id: int) -> str:
    return f"member.{jam_id}.{user_id}"


def publish(*, jam_id: int, rev: int, frames: dict[str, Frame]) -> None:
    """Send each audience's frame (its parts, each with its key) to every process."""
    try:
        if settings.LIVE_FANOUT == "layer":
            layer = get_channel_layer()
            for audience, frame in frames.items():
                async_to_sync(layer.group_send)(
                    layer_group(jam_id, audience),
                    {"type": "live.frame", "rev": rev, "text": frame_text(frame)},
                )
        elif settings.REDIS_URL:
            pipe = redis_client().pipeline(transaction=False)
            sent_at = time.time()
            for audience, frame in frames.items():
                pipe.publish(
                    channel_name(jam_id, audience),
                    frame_encode(rev=rev, sent_at=sent_at, frame=frame),
                )
            pipe.execute()
        else:
            from jamhost.live.fanout import feed_local_hubs

            sent_at = time.time()
            for audience, frame in frames.items():
                feed_local_hubs(
                    jam_id=jam_id, audience=audience, rev=rev, frame=frame, sent_at=sent_at
                )
    except Exception:
        log.warning(
            "live publish of jam %s rev %s failed; screens will resync", jam_id, rev, exc_info=True
        )


def notify_user(*, jam_id: int, user_id: int) -> None:
    """Ask the user's consoles in this jam to re-check their role."""
    try:
        layer = get_channel_layer()
        async_to_sync(layer.group_send)(user_group(jam_id, user_id), {"type": "member.changed"})
    except Exception:
        log.warning("could not notify user %s of jam %s", user_id, jam_id, exc_info=True)
