"""The jam row lock: every live change to a jam (a post, a moderation action, a question
released, a status change) and archiving take it first, so they are serialised per jam
and never deadlock."""

from __future__ import annotations

from jamhost.jams.models import Jam


def jam_lock(jam: Jam) -> Jam:
    """The jam's row, locked for the transaction: every live change takes it, and so does
    archiving."""
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the join.
    return (
        Jam.objects.select_for_update(of=("self",))
        .select_related("current_question")
        .get(pk=jam.pk)
    )
