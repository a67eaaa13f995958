"""Django's ASGI handler with the request's whole synchronous part in one thread hop.

Every middleware jamhost uses is synchronous, and so are its views. Django's own ASGI
handler still builds an asynchronous chain, so each request crossed between the event
loop and its thread four times just to get through the middleware to the view and back
(sync middleware -> async core -> sync view), and twice more around it: once to send
`request_started` and once to close the response (`request_finished`). Each crossing
costs a wake-up of the thread, a wake-up of the loop and asgiref's context copying.
Here the request runs as one call on its thread (its lane, see jamhost.admission):
`request_started`, the middleware chain and the view, and — for a response whose body
is already in hand — its close, which gives the database connection back before the
answer is written. A streaming response (a transcript export, a file) is sent as
Django sends it, racing the client's disconnect, and closed after. Body reading and the
request's checks are Django's own.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.urls import set_script_prefix


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        request, error_response = self.create_request(scope, body_file)
        if request is None:  # as Django answers a request it cannot build
            assert error_response is not None
            await signals.request_started.asend(sender=self.__class__, scope=scope)
            body_file.close()
            await self.send_response(error_response, send)
            await sync_to_async(error_response.close)()
            return
        try:
            response = await sync_to_async(self._respond, thread_sensitive=True)(request, scope)
            if response.streaming:
                await self._stream(response, receive, send)
            else:
                with contextlib.suppress(asyncio.CancelledError):
                    await self.send_response(response, send)
        finally:
            body_file.close()

    def _respond(self, request: HttpRequest, scope: Any) -> HttpResponseBase:
        """On the request's thread: everything Django does between the request read and
        the answer written, and the close of an answer whose body is in hand."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        response = self.get_response(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response

    async def _stream(self, response: HttpResponseBase, receive: Any, send: Any) -> None:
        """Django's sending of a streaming answer: stopped when the client goes away."""
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(self.send_response(response, send)),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                if task.done():
                    with contextlib.suppress(RequestAborted, asyncio.CancelledError):
                        task.result()
                else:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        finally:
            await sync_to_async(response.close, thread_sensitive=True)()
