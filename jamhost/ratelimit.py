"""Rate limits on the Django cache: fixed windows counted per user and per client address.

A limit is "<requests>/<seconds>". When the cache itself is unreachable (Redis down) the
limiter lets the request through: refusing every post during a Redis blip would cost more
than a burst of spam, which moderators can still hide.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.core.cache import cache
from django.http import HttpRequest

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


def rate_hit(*, scope: str, key: str, rate: str, what: str) -> None:
    """Count one request against `key` in `scope`; raise Limited when over `rate`."""
    limit, window = parse_rate(rate)
    if limit <= 0:
        return
    now = time.time()
    bucket = int(now // window)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{digest}:{bucket}"
    try:
        cache.add(cache_key, 0, timeout=window + 1)
        count = cache.incr(cache_key)
    except Exception:
        log.warning("rate limit %s not checked: the cache is unreachable", scope, exc_info=True)
        return
    if count > limit:
        raise Limited(retry_after=max(1, math.ceil((bucket + 1) * window - now)), what=what)


def rate_check(
    *, request: HttpRequest, scope: str, user_key: str | None, rates: tuple[str, str], what: str
) -> None:
    """Both limits of an action: per user (when there is one) and per client address."""
    user_rate, address_rate = rates
    if user_key:
        rate_hit(scope=f"{scope}:user", key=user_key, rate=user_rate, what=what)
    rate_hit(scope=f"{scope}:addr", key=client_address(request), rate=address_rate, what=what)
