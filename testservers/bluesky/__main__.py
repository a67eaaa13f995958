"""python -m testservers.bluesky --port 8766: a Bluesky-compatible server for staging."""

from __future__ import annotations

import argparse
import threading

from testservers.bluesky.state import BlueskyEmulator


def main() -> None:
    parser = argparse.ArgumentParser(description="A Bluesky-compatible server for staging")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--search-lag", type=float, default=5.0, help="seconds before search finds a new post"
    )
    parser.add_argument("--handle", default="staging.bsky.test", help="the account it serves")
    parser.add_argument("--password", default="staging-app-password")
    args = parser.parse_args()
    emulator = BlueskyEmulator()
    emulator.search_lag = args.search_lag
    did = emulator.account_add(args.handle, "Staging User", password=args.password)
    url = emulator.start(args.host, args.port)
    print(
        f"Bluesky-compatible server on {url} (Jetstream {emulator.jetstream_url}); "
        f"account {args.handle} ({did}), app password {args.password}",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
