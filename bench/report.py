"""Turning what the poster and the load client recorded into the numbers bench.fanout
prints: one Result per server configuration, a table, and the ratios the targets use."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.frames import add_counts, count_socket, latency_summary


@dataclass
class Result:
    label: str
    viewers: int
    moderators: int
    workers: int
    posts: int = 0
    posts_per_s: float = 0.0
    late_posts: int = 0
    post_errors: int = 0
    latency_ms: dict[str, float] = field(default_factory=dict)
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    out_of_order: int = 0
    reconnects: int = 0
    gave_up: int = 0
    frames_per_s: float = 0.0
    rss_idle_mb: float = 0.0
    rss_connected_mb: float = 0.0
    rss_loaded_mb: float = 0.0
    kb_per_connection: float = 0.0
    server_cpu_s: float = 0.0
    us_per_frame: float = math.nan
    client_busy: float = 0.0
    connect_s: float = 0.0
    poster_busy: float = 0.0
    # --via page: what the people posting saw.
    post_requests: int = 0
    post_latency_ms: dict[str, float] = field(default_factory=dict)
    non_2xx: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    told_failed_but_stored: int = 0
    told_posted_but_missing: int = 0
    ms_per_post: float = math.nan
    notes: list[str] = field(default_factory=list)
    storm: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def frames_analyse(
    result: Result, saved: dict[int, float], sockets: list[dict[str, Any]], posting_started: float
) -> None:
    """Count every socket's frames against the posts saved, and time each frame from its
    post's commit."""
    expected = set(saved)
    counts = []
    latencies: list[float] = []
    last_arrival = posting_started
    for sock in sockets:
        revs = list(sock["revs"])
        counts.append(count_socket(expected, revs))
        for rev, arrived in zip(revs, sock["times"], strict=True):
            committed = saved.get(rev)
            if committed is not None:
                latencies.append(arrived - committed)
                last_arrival = max(last_arrival, arrived)
        result.reconnects += max(0, sock["connects"] - 1)
        result.gave_up += int(sock["gave_up"])
    total = add_counts(counts)
    result.delivered = total.delivered
    result.lost = total.lost
    result.duplicated = total.duplicated
    result.unexpected = total.unexpected
    result.out_of_order = total.out_of_order
    result.latency_ms = latency_summary(latencies)
    span = last_arrival - posting_started
    result.frames_per_s = result.delivered / span if span > 0 else 0.0


def storm_analyse(
    sockets: list[dict[str, Any]], killed: float, up: float, deadline: float
) -> dict[str, Any]:
    """When each socket was caught up again after the restart: its first caught-up
    marker after the old server went away."""
    times = []
    missing = 0
    for sock in sockets:
        after = [t for t, _rev in sock["markers"] if t > killed]
        if after:
            times.append(after[0])
        else:
            missing += 1
    times.sort()
    return {
        "sockets": len(sockets),
        "not_caught_up": missing,
        "server_down_s": up - killed,
        "all_caught_up_after_up_s": (times[-1] - up) if times and not missing else math.nan,
        "all_caught_up_after_kill_s": (times[-1] - killed) if times and not missing else math.nan,
        "half_caught_up_after_up_s": (times[len(times) // 2] - up) if times else math.nan,
        "p90_caught_up_after_up_s": (times[len(times) * 9 // 10] - up) if times else math.nan,
        "p99_caught_up_after_up_s": (times[len(times) * 99 // 100] - up) if times else math.nan,
        "within_deadline": bool(times) and not missing and times[-1] - up <= deadline,
    }


def _fmt(value: float, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


COLUMNS = [
    ("server", 26),
    ("viewers", 8),
    ("p50 ms", 8),
    ("p95 ms", 8),
    ("p99 ms", 8),
    ("max ms", 8),
    ("delivered", 10),
    ("lost", 6),
    ("dup", 5),
    ("posts/s", 8),
    ("frames/s", 9),
    ("RSS MB", 7),
    ("KB/conn", 8),
    ("CPU s", 6),
    ("µs/frame", 9),
    ("client", 7),
    ("POST p50", 9),
    ("POST p99", 9),
    ("non-2xx", 8),
    ("ms/POST", 8),
]


def table(results: list[Result]) -> str:
    head = " ".join(name.rjust(width) for name, width in COLUMNS)
    lines = [head, "-" * len(head)]
    for r in results:
        cells = [
            r.label,
            _fmt(r.viewers),
            _fmt(r.latency_ms.get("p50", math.nan)),
            _fmt(r.latency_ms.get("p95", math.nan)),
            _fmt(r.latency_ms.get("p99", math.nan)),
            _fmt(r.latency_ms.get("max", math.nan)),
            _fmt(r.delivered),
            _fmt(r.lost),
            _fmt(r.duplicated),
            _fmt(r.posts_per_s, 1),
            _fmt(r.frames_per_s),
            _fmt(r.rss_loaded_mb),
            _fmt(r.kb_per_connection, 1),
            _fmt(r.server_cpu_s, 1),
            _fmt(r.us_per_frame, 1),
            f"{r.client_busy:.0%}",
            _fmt(r.post_latency_ms.get("p50", math.nan)),
            _fmt(r.post_latency_ms.get("p99", math.nan)),
            _fmt(r.non_2xx) if r.post_requests else "-",
            _fmt(r.ms_per_post, 2),
        ]
        lines.append(" ".join(c.rjust(w) for c, (_, w) in zip(cells, COLUMNS, strict=True)))
    return "\n".join(lines)


def ratios(results: list[Result]) -> list[str]:
    """The comparisons the targets are stated in."""
    by = {r.label: r for r in results}
    out = []
    bare = by.get("bare")
    layer = next((r for r in results if r.label.startswith("jamhost-default-layer")), None)
    for r in results:
        if not r.label.startswith("jamhost-hub"):
            continue
        if bare is not None:
            p99 = _ratio(r.latency_ms.get("p99"), bare.latency_ms.get("p99"))
            cpu = _ratio(r.us_per_frame, bare.us_per_frame)
            out.append(f"{r.label} / bare: p99 {p99}, CPU per frame {cpu}")
        if layer is not None:
            out.append(
                f"default-layer / {r.label}: CPU per frame "
                f"{_ratio(layer.us_per_frame, r.us_per_frame)}, p99 "
                f"{_ratio(layer.latency_ms.get('p99'), r.latency_ms.get('p99'))}"
            )
    hubs = [r for r in results if r.label.startswith("jamhost-hub")]
    if len(hubs) > 1:
        one = hubs[0]
        for other in hubs[1:]:
            out.append(
                f"{other.label} / {one.label}: p99 "
                f"{_ratio(other.latency_ms.get('p99'), one.latency_ms.get('p99'))}, CPU per frame "
                f"{_ratio(other.us_per_frame, one.us_per_frame)}, RSS "
                f"{_ratio(other.rss_loaded_mb, one.rss_loaded_mb)}"
            )
    return out


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or math.isnan(a) or math.isnan(b) or b == 0:
        return "-"
    return f"{a / b:.2f}x"
