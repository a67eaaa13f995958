"""`python -m jamhost.serve`: the ASGI server (uvicorn) with jamhost's settings.

Per-message deflate is off: compressing each frame for each socket is per-viewer work
on the live path."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import uvicorn

from jamhost.logs import logging_config

# Database work runs in a worker thread while the event loop writes frames. Each query's
# network I/O releases the GIL, and taking it back from a busy loop thread waits out the
# switch interval (5 ms by default) — a few times per query. In a connect storm that made
# catch-up queries, not CPU, the bottleneck (bench/: 300 viewers caught up in 6-8 s, with
# 0.5 ms in ~4 s). Set at import so uvicorn's spawned worker processes get it too.
sys.setswitchinterval(0.0005)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve jamhost")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamhost.settings")
    if args.workers > 1 and not os.environ.get("REDIS_URL"):
        raise SystemExit(
            "jamhost: several web workers need REDIS_URL (the embedded default is one process)."
        )
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # /metrics adds up every worker's samples from here (jamhost.metrics); set before
        # the workers start so that they all write to it. An operator's own directory
        # (shared with the Celery workers) is theirs to empty before the processes start.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="jamhost-metrics-")
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    print(f"jamhost: serving on http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(
        "jamhost.asgi:application",
        host=args.host,
        port=args.port,
        workers=args.workers,
        lifespan="on",
        ws="jamhost.wsprotocol:SlimWebSocketProtocol",
        ws_per_message_deflate=False,
        # X-Forwarded-For is read by jamhost.edge, from TRUSTED_PROXIES only.
        proxy_headers=False,
        log_config=logging_config(
            fmt=os.environ.get("LOG_FORMAT", "plain"), level=os.environ.get("LOG_LEVEL", "INFO")
        ),
        log_level=os.environ.get("UVICORN_LOG_LEVEL", "info"),
    )


if __name__ == "__main__":
    main()
