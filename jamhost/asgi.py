"""ASGI entry point: Django for HTTP, Channels consumers for websockets, all behind
jamhost.edge (body caps, trusted proxies, sockets per address, the Origin check), and a
lifespan handler that runs the schedule sweep on the server's own event loop in the embedded
default (production runs it from Celery beat)."""

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamhost.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from jamhost.edge import OriginCheck, edge  # noqa: E402
from jamhost.lifespan import lifespan  # noqa: E402
from jamhost.live.auth import SocketAuthMiddlewareStack  # noqa: E402
from jamhost.live.routing import websocket_urlpatterns  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginCheck(SocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
# Body caps, trusted proxies and sockets per address, before Django or a consumer.
guarded = edge(router)


async def application(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    await guarded(scope, receive, send)
