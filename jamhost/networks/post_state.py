"""A post's state on the networks as every screen shows it (post.elsewhere), and X's part
of it: whether a post goes to X (networks.XPost, post.elsewhere["x"]). The networks app
alone writes post.elsewhere, each network its own entries, through post_network_set:
merged under the post's row lock, with a new rev so every screen shows the change."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from jamhost.jams.counters import jam_next_rev
from jamhost.live.publish import post_changed_on_commit
from jamhost.networks.models import JamNetwork, Network, XAccount, XPost, XStatus
from jamhost.networks.x.rules import X_LIMIT, weighted_length
from jamhost.posts.models import Post, Source

X_KEY = Network.X.value  # post.elsewhere's key for X


def x_goes(*, user: Any) -> bool:
    """Whether the user's posts go to X (X configured, account linked and working)."""
    if not settings.X_CLIENT_ID or user is None or not getattr(user, "pk", None):
        return False
    return XAccount.objects.filter(user_id=user.pk, revoked_at__isnull=True).exists()


def x_runs(*, jam_id: int) -> bool:
    """Whether the jam runs on X: X configured here, and not turned off for the jam."""
    if not settings.X_CLIENT_ID:
        return False
    return not JamNetwork.objects.filter(jam_id=jam_id, network=Network.X, enabled=False).exists()


def x_elsewhere(*, user: Any) -> dict[str, dict[str, str]]:
    """The ElsewhereAsked answer: a new post by `user` starts queued for X, or not on X."""
    return {X_KEY: x_entry_for(XStatus.QUEUED)} if x_goes(user=user) else {}


def x_entry_for(status: str, x_id: str | None = None, error: str = "") -> dict[str, str]:
    """A jamhost post's state on X as post.elsewhere["x"] shows it."""
    url = f"https://x.com/i/web/status/{x_id}" if status == XStatus.PUBLISHED and x_id else ""
    return {"status": status, "url": url, "error": error}


def x_status(post: Post) -> str:
    """A jamhost post's status on X as it shows ("" when it does not go to X)."""
    entry = (post.elsewhere or {}).get(X_KEY) if isinstance(post.elsewhere, dict) else None
    return str(entry.get("status") or "") if isinstance(entry, dict) else ""


def x_shown(post: Post, status: str | None, error: str = "") -> None:
    """Inside the storing (or showing) transaction, before anyone else saw the post:
    its X entry becomes `status` (None: the post is not going to X)."""
    found = dict(post.elsewhere) if isinstance(post.elsewhere, dict) else {}
    if status is None:
        found.pop(X_KEY, None)
    else:
        found[X_KEY] = x_entry_for(status, error=error)
    post.elsewhere = found
    Post.objects.filter(pk=post.pk).update(elsewhere=found)


def x_row(post: Post, status: str, error: str = "") -> None:
    """The post's XPost at `status` (inside the caller's transaction): one UPDATE for a
    post that had one, an UPDATE and an INSERT for a new post."""
    if not XPost.objects.filter(post_id=post.pk).update(status=status, error=error):
        XPost.objects.create(post_id=post.pk, jam_id=post.jam_id, status=status, error=error)


def too_long_for_x(text: str) -> str:
    """Why X would refuse `text` for its length ("" when it fits): the post still went
    to its other networks, so X is never asked (nor billed)."""
    length = weighted_length(text)
    if length <= X_LIMIT:
        return ""
    return f"Too long for X: {length} of {X_LIMIT} (X's weights). It went to the other networks."


def post_network_set(
    post_id: int,
    *,
    x: dict[str, Any] | None = None,
    elsewhere_part: dict[str, Any] | None = None,
    **fields: Any,
) -> Post:
    """Change a post's network fields with a new rev, so every screen shows it. `x`
    changes its state on X (XPost's status, x_id, error, attempts; the row is made when
    missing) and, for a jamhost post, the post.elsewhere["x"] that shows it;
    `elsewhere_part` replaces the other networks' entries it names (networks.deliveries).
    Both are merged under the post's row lock: neither writer loses the other's."""
    with transaction.atomic():
        jam_id = Post.objects.values_list("jam_id", flat=True).get(pk=post_id)
        _, rev = jam_next_rev(jam_id=jam_id)  # jam row first, as post_insert does
        post = (
            Post.objects.select_for_update(of=("self",)).select_related("question").get(pk=post_id)
        )
        for name, value in fields.items():
            setattr(post, name, value)
        changed = [*fields]
        if elsewhere_part is not None:
            post.elsewhere = {
                **(post.elsewhere if isinstance(post.elsewhere, dict) else {}),
                **elsewhere_part,
            }
            changed.append("elsewhere")
        if x is not None:
            state = XPost.objects.select_for_update().filter(post_id=post_id).first()
            state = state or XPost(post_id=post_id, jam_id=jam_id, status=XStatus.QUEUED)
            for name, value in x.items():
                setattr(state, name, value)
            state.error = state.error[:300]
            state.save()
            if post.source == Source.APP:
                post.elsewhere = {
                    **(post.elsewhere if isinstance(post.elsewhere, dict) else {}),
                    X_KEY: x_entry_for(state.status, state.x_id, state.error),
                }
                changed.append("elsewhere")
        post.rev = rev
        post.save(update_fields=[*dict.fromkeys(changed), "rev", "updated_at"])
        post_changed_on_commit(post)
    return post


def x_state(post_id: int) -> XPost | None:
    return XPost.objects.filter(post_id=post_id).first()


def backoff(attempt: int) -> timedelta:
    """5 s doubling to 5 minutes, ±20% so that retries of many posts spread out."""
    seconds = min(5 * 2 ** max(attempt - 1, 0), 300)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))
