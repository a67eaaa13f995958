"""One Redis client per process for everything synchronous: the cache (sessions, rate
limits) and live publishing.

redis-py's client is thread-safe and keeps a pool of connections; sharing one per
process bounds the connections by the number of threads using Redis at the same moment
(at most REDIS_MAX_CONNECTIONS: a thread that finds them all busy waits up to the socket
timeout, then the caller's Redis-down path runs). Django's own Redis cache would make a
pool per thread and a client object per call: under ASGI, with a thread per request,
that left hundreds of connections open after a burst of posts, and building the client
objects cost more CPU than the commands. The live hub's subscription and the Channels
layer are asynchronous and keep their own few connections.
"""

from __future__ import annotations

import threading
from typing import Any

import redis
from django.conf import settings
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

SOCKET_TIMEOUT = 1.0

_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}


def redis_client(url: str | None = None) -> redis.Redis:
    """The process's client for `url` (REDIS_URL by default)."""
    url = url or settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url)
            if client is None:
                pool = redis.BlockingConnectionPool.from_url(
                    url,
                    max_connections=settings.REDIS_MAX_CONNECTIONS,
                    timeout=SOCKET_TIMEOUT,
                    socket_timeout=SOCKET_TIMEOUT,
                    socket_connect_timeout=SOCKET_TIMEOUT,
                    client_name=f"{settings.CHANNEL_PREFIX}-web",
                )
                client = _clients[url] = redis.Redis(connection_pool=pool)
    return client


class _SharedClient(RedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._shared = redis_client(servers[0])

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        return self._shared


class SharedRedisCache(RedisCache):
    """Django's Redis cache on the process's one client (one server only)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClient

    @property
    def redis(self) -> redis.Redis:
        """The shared client itself, for several commands in one round trip."""
        return redis_client(self._servers[0])  # type: ignore[attr-defined]
