"""Finding one's own post on X after an unclear answer: a small read of the author's
own posts in the time of the attempt (GET /2/users/:id/tweets), not a search page. Every
post X returns is billed, so a look-up reads at most LOOKUP_MAX_RESULTS."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime

from jamhost.networks.models import XAccount, XPost
from jamhost.networks.usage import usage_record
from jamhost.networks.x import client as x
from jamhost.networks.x.text import same_text, tweet_text
from jamhost.posts.models import Post, Source

LOOKUP_MAX_RESULTS = 10
# X's clock and ours differ by a few seconds; a post created this long before our first
# attempt is not ours.
CLOCK_SKEW = timedelta(seconds=5)


def own_post_on_x(
    *, post: Post, account: XAccount, token: str, since: datetime, sent: datetime, now: datetime
) -> str | None:
    """The id of `post` on X among its author's posts from `since` (the first unclear
    attempt) to just after `sent` (the last one), or None; raises XError when X does not
    answer. A post X has that is already recorded on another jamhost post (the same text
    posted before) is never this one."""
    start = since - CLOCK_SKEW
    until = sent + timedelta(seconds=settings.X_TIMEOUT + 30)
    page = x.user_posts(
        token=token,
        user_id=account.x_user_id,
        start_time=start,
        end_time=until if until < now else None,
        max_results=LOOKUP_MAX_RESULTS,
    )
    usage_record(jam_id=post.jam_id, reads=len(page.posts), lookup=True)
    candidates = [
        t
        for t in page.posts
        if isinstance(t, dict) and str(t.get("id", "")).isdigit() and _created_since(t, start)
    ]
    taken = set(
        XPost.objects.filter(x_id__in=[str(t["id"]) for t in candidates])
        .exclude(post__source=Source.X)
        .exclude(post_id=post.pk)
        .values_list("x_id", flat=True)
    )
    for tweet in candidates:
        if str(tweet["id"]) not in taken and same_text(tweet_text(tweet), post.text):
            return str(tweet["id"])
    return None


def _created_since(tweet: dict[str, Any], since: datetime) -> bool:
    created = parse_datetime(str(tweet.get("created_at") or ""))
    return created is None or created >= since
