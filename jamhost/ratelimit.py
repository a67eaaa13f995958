"""Rate limits on the Django cache: fixed windows counted per user and per client address.
The project's one limiter: the request limits of the views (rate_hit, rate_check) and the
audience's vote and flag budgets (rate_spent, counted only for actions that go through).

A limit is "<requests>/<seconds>". When the cache itself is unreachable (Redis down) the
limiter lets the request through: refusing every post during a Redis blip would cost more
than a burst of spam, which moderators can still hide.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time
from collections.abc import Iterator

from django.core.cache import cache, caches
from django.http import HttpRequest

from jamhost.shared_redis import SharedRedisCache

log = logging.getLogger(__name__)


class Limited(Exception):
    """Over a limit; `retry_after` is whole seconds until the window resets."""

    def __init__(self, *, retry_after: int, what: str) -> None:
        super().__init__(retry_after, what)
        self.retry_after = retry_after
        self.what = what

    @property
    def message(self) -> str:
        return f"Too many {self.what} for now: try again in {self.retry_after} s."


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, seconds = rate.partition("/")
    return int(count), int(seconds or 60)


def client_address(request: HttpRequest) -> str:
    # jamhost.edge has already put the client behind a TRUSTED_PROXIES proxy here.
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _window_key(scope: str, key: str, window: int, now: float) -> tuple[str, int]:
    bucket = int(now // window)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{bucket}", bucket


def _count(keys: list[tuple[str, int]]) -> list[int]:
    """One more hit on each (cache key, window); the counts after it. With Redis, every
    counter is read and bumped in one round trip."""
    backend = caches["default"]
    if isinstance(backend, SharedRedisCache):
        pipe = backend.redis.pipeline(transaction=False)
        for key, window in keys:
            full = backend.make_key(key)
            pipe.set(full, 0, ex=window + 1, nx=True)
            pipe.incr(full)
        return [int(count) for count in pipe.execute()[1::2]]
    counts = []
    for key, window in keys:
        cache.add(key, 0, timeout=window + 1)
        counts.append(int(cache.incr(key)))
    return counts


# DECR on a counter that expired meanwhile would create one without an expiry.
_DECR_IF_KEPT = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end"


def _uncount(keys: list[tuple[str, int]]) -> None:
    """Take back one hit on each (cache key, window). A counter that expired meanwhile is
    left alone: its window is over."""
    backend = caches["default"]
    if isinstance(backend, SharedRedisCache):
        pipe = backend.redis.pipeline(transaction=False)
        for key, _ in keys:
            pipe.eval(_DECR_IF_KEPT, 1, backend.make_key(key))
        pipe.execute()
        return
    for key, _ in keys:
        with contextlib.suppress(ValueError):  # expired: its window is over
            cache.decr(key)


def _hits(limits: list[tuple[str, str, str]], what: str) -> list[tuple[str, int]]:
    """Count one request against each (scope, key, rate); raise Limited for the first
    one over its rate; return the (cache key, window) pairs counted. A request refused by
    one limit is not counted against the limits after it: one person over their own
    limit (checked first) must not use up the budget of everyone at their address (a
    venue's Wi-Fi is one address)."""
    now = time.time()
    counted = []
    for scope, key, rate in limits:
        limit, window = parse_rate(rate)
        if limit > 0:
            cache_key, bucket = _window_key(scope, key, window, now)
            counted.append((scope, cache_key, limit, window, bucket))
    if not counted:
        return []
    try:
        counts = _count([(cache_key, window) for _, cache_key, _, window, _ in counted])
    except Exception:
        scopes = ", ".join(scope for scope, *_ in counted)
        log.warning("rate limit %s not checked: the cache is unreachable", scopes, exc_info=True)
        return []
    for index, ((_, _, limit, window, bucket), count) in enumerate(
        zip(counted, counts, strict=True)
    ):
        if count > limit:
            later = [(cache_key, window) for _, cache_key, _, window, _ in counted[index + 1 :]]
            if later:
                try:
                    _uncount(later)
                except Exception:
                    log.warning("rate limit: a refused request stayed counted", exc_info=True)
            raise Limited(retry_after=max(1, math.ceil((bucket + 1) * window - now)), what=what)
    return [(cache_key, window) for _, cache_key, _, window, _ in counted]


def rate_hit(*, scope: str, key: str, rate: str, what: str) -> None:
    """Count one request against `key` in `scope`; raise Limited when over `rate`."""
    _hits([(scope, key, rate)], what)


def rate_check(
    *, request: HttpRequest, scope: str, user_key: str | None, rates: tuple[str, str], what: str
) -> None:
    """Both limits of an action: per user (when there is one) and per client address,
    counted together."""
    user_rate, address_rate = rates
    limits = [(f"{scope}:addr", client_address(request), address_rate)]
    if user_key:
        limits.insert(0, (f"{scope}:user", user_key, user_rate))
    _hits(limits, what)


@contextlib.contextmanager
def rate_spent(*, scope: str, key: str, rate: str, what: str) -> Iterator[None]:
    """Count one action against `key` in `scope` before it runs (raise Limited when over
    `rate`), and give the count back when the action raises: an action refused for
    another reason, or whose transaction rolled back, does not use up the budget.

    Counting before the action keeps two requests at once from both passing the last
    place; wrap the whole transaction (`with rate_spent(...), transaction.atomic():`) so
    that a rollback is an exception seen here. A give-back that cannot reach the cache
    leaves the action counted (logged)."""
    counted = _hits([(scope, key, rate)], what)
    try:
        yield
    except BaseException:
        if counted:
            try:
                _uncount(counted)
            except Exception:
                log.warning("rate limit %s: a failed action stayed counted", scope, exc_info=True)
        raise
