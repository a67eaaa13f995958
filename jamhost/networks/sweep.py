"""The networks part of the periodic sweep: sends publications that are due (first tries
that were never sent, retries after backoff or a rate-limit reset) and ingest polls for
jams in their ingest window. Run by Celery beat in production and by the server's own
loop in the embedded default. Bluesky and Mastodon deliveries and polls (networks.deliveries,
networks.cursors) come first; X's need X credentials."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from jamhost import metrics
from jamhost.networks.cursors import route_poll, routes_due
from jamhost.networks.deliveries import deliveries_due, delivery_send
from jamhost.networks.ingest import ingest_due, ingest_poll
from jamhost.networks.publishing import post_publish, publications_due

log = logging.getLogger(__name__)

# Set by the embedded server's loop (jamhost.lifespan). While it runs, new publications
# wait for it (within SWEEP_INTERVAL) instead of running inline in the request that
# stored the post, where an X round trip would hold up every other page of the process.
embedded_loop_running = False


@dataclass
class NetworksSweepResult:
    published: list[int] = field(default_factory=list)
    polled: list[int] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    routes: list[int] = field(default_factory=list)


@metrics.timed_sweep("networks")
def networks_sweep(*, now: datetime | None = None, send: bool = False) -> NetworksSweepResult:
    """With `send`, hand each piece of work to a Celery task (workers run them in
    parallel); without, run them here one after another (embedded default, tests)."""
    result = NetworksSweepResult()
    now = now or timezone.now()
    from jamhost.networks import tasks

    for delivery_id in deliveries_due(now=now):
        if send:
            tasks.deliver.delay(delivery_id)
        else:
            delivery_send(delivery_id=delivery_id, now=now)
        result.delivered.append(delivery_id)
    for route_id in routes_due(now=now):
        if send:
            tasks.ingest_route.delay(route_id)
        else:
            route_poll(route_id=route_id, now=now)
        result.routes.append(route_id)
    if not settings.X_CLIENT_ID:
        return result

    for post_id in publications_due(now=now):
        if send:
            tasks.publish_post.delay(post_id)
        else:
            post_publish(post_id=post_id, now=now)
        result.published.append(post_id)
    if settings.X_INGEST == "search":
        for jam_id in ingest_due(now=now):
            if send:
                tasks.ingest_jam.delay(jam_id)
            else:
                ingest_poll(jam_id=jam_id, now=now)
            result.polled.append(jam_id)
    return result
