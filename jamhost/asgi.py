"""ASGI entry point: Django for HTTP (behind admission control: jamhost.admission),
Channels consumers for websockets, all behind jamhost.edge (body caps, trusted proxies,
sockets per address, the Origin check), and a lifespan handler that runs the schedule
sweep on the server's own event loop in the embedded default (production runs it from
Celery beat)."""

import gc
import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamhost.settings")

import django

django.setup(set_prefix=False)

from jamhost.handler import SyncChainASGIHandler  # noqa: E402

django_asgi_app = SyncChainASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from jamhost.admission import Admission  # noqa: E402
from jamhost.edge import OriginCheck, edge  # noqa: E402
from jamhost.lifespan import lifespan  # noqa: E402
from jamhost.live.auth import SocketAuthMiddlewareStack  # noqa: E402
from jamhost.live.routing import websocket_urlpatterns  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": Admission(
            django_asgi_app,
            threads=settings.WEB_THREADS,
            backlog=settings.WEB_BACKLOG,
            wait=settings.WEB_BACKLOG_WAIT,
            retry_after=settings.WEB_RETRY_AFTER,
            exempt=settings.ADMISSION_EXEMPT_PATHS,
            slow=settings.ADMISSION_SLOW_PATHS,
            slow_threads=settings.WEB_SLOW_THREADS,
        ),
        "websocket": OriginCheck(SocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
# Body caps, trusted proxies and sockets per address, before Django or a consumer. The
# edge goes outside admission: the client's address (from a trusted proxy) is known
# before anything logs or counts the request, and a body declared over its cap is
# refused at once without taking a place in the queue or a thread. A chunked body that
# passes its cap is still cut off by the edge while the view reads it on its lane.
guarded = edge(router)


async def application(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    await guarded(scope, receive, send)


# The garbage collector. Everything imported so far lives as long as the process: frozen,
# it is never scanned again. Open sockets, frames and requests make many short-lived
# objects; with the default threshold (700 allocations) the collector ran several times per
# frame burst and its full passes over 1,000 sockets' objects held the loop for tens of ms,
# the tail of delivery latency (bench/README.md). GC_GEN0_THRESHOLD sets the first
# generation's threshold (0 keeps Python's default).
_gen0 = int(os.environ.get("GC_GEN0_THRESHOLD", "50000"))
if _gen0 > 0:
    gc.collect()
    gc.freeze()
    gc.set_threshold(_gen0, *gc.get_threshold()[1:])
