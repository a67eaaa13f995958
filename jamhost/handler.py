"""Django's ASGI handler with a synchronous middleware chain.

Every middleware jamhost uses is synchronous, and so are its views. Django's own ASGI
handler still builds an asynchronous chain, so each request crossed between the event
loop and its thread four times just to get through the middleware to the view and back
(sync middleware -> async core -> sync view), a few hundred microseconds of CPU per
request. Here the whole chain runs as one call on the request's thread (its lane, see
jamhost.admission); body reading, streaming and disconnects are Django's own handling.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
