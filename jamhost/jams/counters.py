"""The per-jam counters every live change is stamped with.

`seq` numbers posts: strictly increasing per jam with no gaps. `rev` stamps every change a
screen must see (a new post, a hidden post, a released question). Both are taken with one
UPDATE ... RETURNING on the jam's row, which holds the row lock until the transaction
commits: changes to one jam commit in rev order, which is what live catch-up relies on.
"""

from __future__ import annotations

from django.db import connection, transaction


def jam_next_rev(
    *, jam_id: int, new_post: bool = False, header_changed: bool = False
) -> tuple[int, int]:
    """Return (seq, rev) after bumping rev, seq too when `new_post`, and stamping the
    jam's header_rev with the new rev when `header_changed`.

    Must run inside transaction.atomic(); the lock is held until it commits.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("jam_next_rev must run inside transaction.atomic()")
    seq_step = 1 if new_post else 0
    header = ", header_rev = rev + 1" if header_changed else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE jams_jam SET rev = rev + 1, last_seq = last_seq + %s{header} "  # noqa: S608
            "WHERE id = %s RETURNING last_seq, rev",
            [seq_step, jam_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise LookupError(f"jam {jam_id} does not exist")
    return int(row[0]), int(row[1])
