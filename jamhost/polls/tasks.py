from celery import shared_task

from jamhost.polls.sweep import polls_sweep


@shared_task(ignore_result=True)
def sweep() -> None:
    """Open and close due polls, read ended X polls (idempotent; see polls.sweep)."""
    polls_sweep()
