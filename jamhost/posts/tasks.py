from celery import shared_task

from jamhost.posts.drafts import drafts_send_released


@shared_task(ignore_result=True)
def drafts_sweep() -> None:
    """Send the drafts marked "send on release" whose question is out (idempotent; see
    posts.drafts.drafts_send_released)."""
    drafts_send_released()
