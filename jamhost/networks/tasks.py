"""Network tasks. Thin: each takes ids and calls a service; retries are scheduled by the
services in the database (see networks.publishing), not by Celery countdowns."""

from celery import shared_task

from jamhost.networks.cursors import route_poll
from jamhost.networks.deliveries import delivery_send
from jamhost.networks.ingest import ingest_poll
from jamhost.networks.publishing import post_publish
from jamhost.networks.sweep import networks_sweep


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def publish_post(post_id: int) -> None:
    """Publish a queued post to X (idempotent: posts at most once)."""
    post_publish(post_id=post_id)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def ingest_jam(jam_id: int) -> None:
    """Read the jam's new hashtag posts from X (a cursor lease keeps polls apart)."""
    ingest_poll(jam_id=jam_id)


@shared_task(ignore_result=True)
def sweep() -> None:
    """Send due publications and due ingest polls (idempotent; see networks.sweep)."""
    networks_sweep(send=True)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def deliver(delivery_id: int) -> None:
    """Publish a post to one of its jam's other networks (idempotent: the same key)."""
    delivery_send(delivery_id=delivery_id)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def ingest_route(route_id: int) -> None:
    """Read a jam's new tagged posts from Bluesky or Mastodon (a cursor lease)."""
    route_poll(route_id=route_id)
