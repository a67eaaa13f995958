"""`python -m bench.profiled_serve OUT [jamhost.serve's arguments]`: jamhost.serve with
cProfile on every thread (the event loop's and each request lane's),
timed by each thread's CPU clock,, the profiles added
up into OUT (pstats) when the server stops. Used by `bench.compose_cpu --calls`."""

from __future__ import annotations

import atexit
import cProfile
import pstats
import signal
import sys
import threading
import time

profiles: list[cProfile.Profile] = []
lock = threading.Lock()


def _start_here(*_: object) -> None:
    # threading.setprofile's hook runs in each new thread at its first event: replace it
    # with a profiler of that thread's own.
    # Each thread's own CPU time, not the wall clock: waiting on PostgreSQL, Redis or a
    # free lane costs nothing here.
    profile = cProfile.Profile(time.thread_time)
    with lock:
        profiles.append(profile)
    profile.enable()


def _save(path: str) -> None:
    with lock:
        for profile in profiles:
            profile.disable()
        stats = None
        for profile in profiles:
            if stats is None:
                stats = pstats.Stats(profile)
            else:
                stats.add(profile)
    if stats is not None:
        stats.dump_stats(path)


def main() -> None:
    out = sys.argv[1]
    sys.argv = ["jamhost.serve", *sys.argv[2:]]
    threading.setprofile(_start_here)
    atexit.register(_save, out)
    # uvicorn raises the SIGTERM it stopped on again once it has shut down; without a
    # handler of ours that would end the process before atexit saves the profiles.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from jamhost.serve import main as serve

    _start_here()
    serve()


if __name__ == "__main__":
    main()
