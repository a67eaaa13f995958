from celery import shared_task

from jamhost.jams.sweep import jams_sweep


@shared_task(ignore_result=True)
def sweep() -> None:
    """Open and close jams and release due questions (idempotent; see jams.sweep)."""
    jams_sweep()
