"""python -m testservers.mastodon --port 8766: a Mastodon-compatible server for staging."""

from __future__ import annotations

import argparse
import threading

from testservers.mastodon.state import MastodonEmulator


def main() -> None:
    parser = argparse.ArgumentParser(description="A Mastodon-compatible server for staging")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--domain", default="", help="LOCAL_DOMAIN (default: host:port)")
    parser.add_argument("--max-characters", type=int, default=500)
    parser.add_argument("--url-weight", type=int, default=23)
    parser.add_argument(
        "--timeline-lag", type=float, default=1.0, help="seconds before tag timelines list a status"
    )
    parser.add_argument("--banned-word", action="append", default=[])
    parser.add_argument("--user", default="staging_user", help="the account that consents")
    args = parser.parse_args()
    emulator = MastodonEmulator(domain=args.domain)
    emulator.max_characters, emulator.url_weight = args.max_characters, args.url_weight
    emulator.timeline_lag = args.timeline_lag
    emulator.banned_words = list(args.banned_word)
    emulator.account_add(args.user, "Staging User")
    url = emulator.start(args.host, args.port)
    print(f"Mastodon-compatible server on {url} (consenting user: {args.user})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
