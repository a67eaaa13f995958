"""Who is on the other end of a socket: Django's session at connect, and the user read
from it when a consumer first needs it.

Channels' AuthMiddlewareStack reads the user before every connect, through the one
thread Channels runs database work in, and wraps `send` so that a session modified while
answering an HTTP request is saved with the response. Neither suits the live room: a
viewer of a scheduled jam needs nobody's identity (in a connect storm, thousands of
sockets queued behind that thread — measured by bench/, see BENCHMARKS.md), and on a
websocket there is no response, yet the `send` wrapper inspected the lazy session on
every frame sent (a third of the server's CPU with 1,000 viewers). Sockets get the same
session, the same user when they ask for it (`socket_user`), and the server's own `send`.
"""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddleware, UserLazyObject, get_user
from channels.sessions import CookieMiddleware, InstanceSessionWrapper, SessionMiddleware
from django.utils.functional import empty


class SocketSessionMiddleware(SessionMiddleware):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        wrapper = InstanceSessionWrapper(scope, send)
        await wrapper.resolve_session()
        return await self.inner(wrapper.scope, receive, send)


class SocketAuthMiddleware(AuthMiddleware):
    """scope["user"] is a lazy user that `socket_user` resolves on first need."""

    async def resolve_scope(self, scope: Any) -> None:
        return None


async def socket_user(scope: Any) -> Any:
    """The socket's user (AnonymousUser when signed out), read from the session once."""
    user = scope["user"]
    if isinstance(user, UserLazyObject) and user._wrapped is empty:
        user._wrapped = await get_user(scope)
    return user


def SocketAuthMiddlewareStack(inner: Any) -> Any:
    return CookieMiddleware(SocketSessionMiddleware(SocketAuthMiddleware(inner)))
