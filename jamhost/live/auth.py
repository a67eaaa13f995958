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

It is one middleware, not Channels' three (cookies, session, user): each layer keeps a
copy of the scope and a suspended frame for as long as its socket is open, which on an
idle viewer was a tenth of the server's memory per socket.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from channels.auth import UserLazyObject, get_user
from django.conf import settings
from django.http.cookie import parse_cookie
from django.utils.functional import empty


class SocketAuthMiddleware:
    """scope["cookies"], scope["session"] (loaded when first read) and scope["user"] (a
    lazy user that `socket_user` resolves on first need), in one copy of the scope."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.session_store = import_module(settings.SESSION_ENGINE).SessionStore

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        cookies: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookies = parse_cookie(value.decode("latin1"))
                break
        scope = dict(scope, cookies=cookies)
        # A session store reads nothing until it is first used.
        scope["session"] = self.session_store(cookies.get(settings.SESSION_COOKIE_NAME))
        scope["user"] = UserLazyObject()
        return await self.inner(scope, receive, send)


async def socket_user(scope: Any) -> Any:
    """The socket's user (AnonymousUser when signed out), read from the session once."""
    user = scope["user"]
    if isinstance(user, UserLazyObject) and user._wrapped is empty:
        user._wrapped = await get_user(scope)
    return user


def SocketAuthMiddlewareStack(inner: Any) -> Any:
    return SocketAuthMiddleware(inner)
