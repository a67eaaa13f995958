from celery import shared_task

from jamhost.jams.reminders import reminders_sweep
from jamhost.jams.sweep import jams_sweep


@shared_task(ignore_result=True)
def sweep() -> None:
    """Open and close jams and release due questions (idempotent; see jams.sweep)."""
    jams_sweep()


@shared_task(ignore_result=True)
def reminders() -> None:
    """Send the reminders due now, each once (see jams.reminders)."""
    reminders_sweep()
