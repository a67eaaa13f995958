"""python -m testservers.x --port 8765: an X-compatible server for staging."""

from __future__ import annotations

import argparse
import os
import threading

# The server uses jamhost's copy of X's hashtag rules, and importing jamhost reads its
# settings, which want DEBUG or a SECRET_KEY; the server itself uses none of them.
os.environ.setdefault("DEBUG", "true")

from testservers.x.state import XEmulator


def main() -> None:
    parser = argparse.ArgumentParser(description="An X-compatible server (X API v2) for staging")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--bearer", default="app", help="the app bearer token it accepts")
    parser.add_argument(
        "--search-lag", type=float, default=5.0, help="seconds before search finds a new post"
    )
    parser.add_argument(
        "--timeline-lag", type=float, default=1.0, help="… and its author's timeline"
    )
    parser.add_argument("--no-escape", action="store_true", help="send &, <, > unescaped")
    parser.add_argument(
        "--allow-duplicates", action="store_true", help="accept the same text twice"
    )
    args = parser.parse_args()
    emulator = XEmulator()
    emulator.search_lag, emulator.timeline_lag = args.search_lag, args.timeline_lag
    emulator.escape_text = not args.no_escape
    emulator.refuse_duplicates = not args.allow_duplicates
    emulator.bearer_add(args.bearer)
    emulator.user_add("staging_user", "Staging User")
    url = emulator.start(args.host, args.port)
    print(f"X-compatible server on {url} (app bearer token: {args.bearer})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
