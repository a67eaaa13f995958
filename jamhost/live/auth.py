"""Who is on the other end of a socket: Django's session and user, read once at connect.

Channels' AuthMiddlewareStack also wraps `send`, so that a session modified while
answering an HTTP request is saved with the response. On a websocket there is no such
response, yet the wrapper still inspects the lazy session on every frame sent: with
1,000 viewers that was a third of the server's CPU (measured by bench/, see
BENCHMARKS.md). Sockets get the same session and user, and the server's own `send`.
"""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, InstanceSessionWrapper, SessionMiddleware


class SocketSessionMiddleware(SessionMiddleware):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        wrapper = InstanceSessionWrapper(scope, send)
        await wrapper.resolve_session()
        return await self.inner(wrapper.scope, receive, send)


def SocketAuthMiddlewareStack(inner: Any) -> Any:
    return CookieMiddleware(SocketSessionMiddleware(AuthMiddleware(inner)))
