"""Reading frames and counting them: the part of the benchmark that decides "lost" and
"duplicated", kept apart from the sockets so a test can feed it known sequences.

A frame is the text one websocket message carries: live, one change; at connect, the
catch-up, many changes and the `caught-up` marker at the end. Each change's element
carries its rev as `data-rev="N"` (the live protocol's ordering key); the marker carries
the rev the socket is caught up to. Anything else (viewer counts and the like) is ignored.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

REV_ATTR = b'data-rev="'
CAUGHT_UP = b'<div class="caught-up"'


def frame_revs(frame: bytes) -> tuple[list[int], int | None]:
    """The revs of the changes a message carries, in order (one per element, a rev shared
    by neighbouring elements counted once), and its caught-up marker's rev (or None)."""
    revs: list[int] = []
    marker = None
    pos = frame.find(REV_ATTR)
    while pos >= 0:
        start = pos + len(REV_ATTR)
        end = frame.find(b'"', start)
        if end < 0:
            break
        try:
            rev = int(frame[start:end])
        except ValueError:
            pos = frame.find(REV_ATTR, end)
            continue
        if frame.startswith(CAUGHT_UP, frame.rfind(b"<", 0, pos)):
            marker = rev
        elif not revs or revs[-1] != rev:
            revs.append(rev)
        pos = frame.find(REV_ATTR, end)
    return revs, marker


@dataclass
class SocketCount:
    delivered: int = 0  # distinct expected revs received
    lost: int = 0  # expected revs never received
    duplicated: int = 0  # receptions of a rev beyond its first
    unexpected: int = 0  # revs nobody published in the window (should stay 0)
    out_of_order: int = 0  # receptions of a rev lower than one received before


def count_socket(expected: Iterable[int], received: Sequence[int]) -> SocketCount:
    """Compare what a socket received (revs, in arrival order, across all its
    connections) with what was published while it was listening."""
    want = set(expected)
    seen = Counter(received)
    count = SocketCount()
    count.delivered = sum(1 for rev in seen if rev in want)
    count.lost = len(want) - count.delivered
    count.duplicated = sum(n - 1 for n in seen.values())
    count.unexpected = sum(1 for rev in seen if rev not in want)
    highest = -1
    for rev in received:
        if rev < highest:
            count.out_of_order += 1
        highest = max(highest, rev)
    return count


def add_counts(counts: Iterable[SocketCount]) -> SocketCount:
    total = SocketCount()
    for c in counts:
        total.delivered += c.delivered
        total.lost += c.lost
        total.duplicated += c.duplicated
        total.unexpected += c.unexpected
        total.out_of_order += c.out_of_order
    return total


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an ascending sequence (nan when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(latencies: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds of delays given in seconds."""
    values = sorted(latencies)
    return {
        "p50": percentile(values, 50) * 1000,
        "p95": percentile(values, 95) * 1000,
        "p99": percentile(values, 99) * 1000,
        "max": (values[-1] * 1000) if values else math.nan,
    }
