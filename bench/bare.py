"""The bare broadcast server: the practical limit for Python on this machine.

`python -m bench.bare --port P --redis-url URL --channel-prefix PREFIX --jam ID`

No Django, no ASGI: the `websockets` library on uvloop, one Redis subscription per
audience of the jam, and `websockets.broadcast()` of each frame to every socket of that
audience. It subscribes to the same channels jamhost's publisher writes
(`<prefix>:live:<jam>:<audience>`, payload `<rev>:<html>`), so it fans out the very frames
jamhost would, to the same clients. It keeps none of jamhost's promises (no catch-up, no
ordering or gap repair, no backlog bound); it only greets each socket with a caught-up
marker so the load client treats both servers alike.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import redis.asyncio as aioredis
import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve

AUDIENCES = {"live": "viewer", "console": "moderator"}


async def run(args: argparse.Namespace) -> None:
    sockets: dict[str, set[ServerConnection]] = {aud: set() for aud in AUDIENCES.values()}
    channels = {f"{args.channel_prefix}:live:{args.jam}:{aud}": aud for aud in sockets}

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        route = path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        audience = AUDIENCES.get(route)
        if audience is None:
            await ws.close(4404)
            return
        after = path.partition("after=")[2].split("&", 1)[0] or "0"
        sockets[audience].add(ws)
        try:
            await ws.send(f'<div class="caught-up" data-rev="{int(after)}" hidden></div>')
            await ws.wait_closed()
        finally:
            sockets[audience].discard(ws)

    client = aioredis.Redis.from_url(args.redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe(*channels)

    async def relay() -> None:
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            _rev, _, text = message["data"].partition(b":")
            broadcast(sockets[channels[message["channel"].decode()]], text, text=True)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(handler, "127.0.0.1", args.port, compression=None, max_queue=16):
        task = asyncio.get_running_loop().create_task(relay())
        print(f"bare: serving on 127.0.0.1:{args.port}", flush=True)
        await stop
        task.cancel()
    await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description="bare websocket broadcast server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--channel-prefix", required=True)
    parser.add_argument("--jam", type=int, required=True)
    uvloop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
