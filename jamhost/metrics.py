"""Prometheus metrics that jamhost's processes count as they work (prometheus_client).

Several web processes (uvicorn workers) share one port, so a scrape reaches one of them
at random. jamhost therefore uses prometheus_client's multiprocess mode: every process
writes its samples to files in PROMETHEUS_MULTIPROC_DIR and /metrics adds them up (or,
for the per-process gauges, keeps them apart by pid). `python -m jamhost.serve` makes
that directory itself when none is set; set it to one directory for every process of
a machine (web, worker, importer) to see the workers' sweeps too. Without it (the
embedded default, one process) the metrics live in the process's own registry.

What is measured at scrape time instead (queue lengths, X usage) is in jamhost.health.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client import Counter, Gauge, Histogram

F = TypeVar("F", bound=Callable[..., Any])

SOCKETS_OPEN = Gauge(
    "jamhost_sockets_open",
    "Websockets open in this process (viewers and consoles).",
    multiprocess_mode="liveall",
)
FRAMES_DELIVERED = Counter(
    "jamhost_frames_delivered",
    "Live frames handed to sockets (one per socket per frame); rate() gives frames/s.",
)
DELIVERY_LAG = Histogram(
    "jamhost_delivery_lag_seconds",
    "From a change's publish (after its commit) to its frame reaching this process's hub.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HUB_GAPS = Counter(
    "jamhost_hub_gaps",
    "Times a hub found a rev missing and waited for it (LIVE_GAP_WAIT).",
)
HUB_RESYNCS = Counter(
    "jamhost_hub_resyncs",
    "Times a hub read a jam's state from the database (a gap, a lost frame, Redis back).",
    ["reason"],
)
SWEEP_SECONDS = Histogram(
    "jamhost_sweep_seconds",
    "How long each periodic sweep took.",
    ["sweep"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
REFUSED = Counter(
    "jamhost_refused",
    "Requests and sockets refused at the edge, by reason.",
    ["reason"],
)


def timed_sweep(name: str) -> Callable[[F], F]:
    """Record the wrapped sweep's duration in SWEEP_SECONDS{sweep=name}."""

    def wrap(function: F) -> F:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                SWEEP_SECONDS.labels(sweep=name).observe(time.perf_counter() - start)

        return timed  # type: ignore[return-value]

    return wrap
