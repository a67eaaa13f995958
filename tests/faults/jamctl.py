"""Commands the fault tests run in a child process against a fault stack's own PostgreSQL
and Redis (the test process itself is configured for the suite's database).

    python -m tests.faults.jamctl setup             -> {"slug", "rev", "panelist", ...}
    python -m tests.faults.jamctl burst SLUG N GAP  -> {"posts": [[id, seq], ...], "errors": n}

The last line of the output is JSON.
"""

from __future__ import annotations

import json
import sys
import time
import uuid


def setup() -> dict[str, object]:
    from tests.factories import MembershipFactory, UserFactory, live_jam

    # Several tests share the fault database: names must not repeat across processes.
    tag = uuid.uuid4().hex[:8]
    host = UserFactory(username=f"host_{tag}")
    jam = live_jam(questions=3, released=1, host=host, slug=f"fault-{tag}", hashtag=f"Fault{tag}")
    panelist = UserFactory(username=f"panelist_{tag}")
    MembershipFactory(jam=jam, user=panelist)
    participant = UserFactory(username=f"participant_{tag}")
    jam.refresh_from_db()
    return {
        "slug": jam.slug,
        "jam_id": jam.pk,
        "rev": jam.rev,
        "host": jam.host.username,
        "panelist": panelist.username,
        "participant": participant.username,
        "password": "correct-horse-battery",
    }


def burst(slug: str, count: int, gap: float) -> dict[str, object]:
    """Post `count` answers through post_compose, one every `gap` seconds. A post that
    fails (it must not) is counted, not retried: the test asserts there were none."""
    from django.contrib.auth import get_user_model

    from jamhost.jams.models import Jam, Membership
    from jamhost.posts.services import post_compose

    jam = Jam.objects.get(slug=slug)
    panelist = get_user_model().objects.get(
        pk=Membership.objects.filter(jam=jam, role="panelist").values_list("user", flat=True)[0]
    )
    posts: list[list[int]] = []
    errors: list[str] = []
    for n in range(count):
        try:
            post = post_compose(jam=jam, user=panelist, body=f"answer {n} of the burst")
            posts.append([post.pk, post.seq])
        except Exception as exc:
            errors.append(repr(exc))
        time.sleep(gap)
    return {"posts": posts, "errors": errors}


def main() -> None:
    import django

    django.setup()
    command, *args = sys.argv[1:]
    if command == "setup":
        result = setup()
    elif command == "burst":
        result = burst(args[0], int(args[1]), float(args[2]))
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
