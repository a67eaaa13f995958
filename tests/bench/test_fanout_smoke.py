"""The benchmark is not a timed test. What the suite checks is that it counts right: a
known sequence with a gap and a duplicate, and a tiny real run (real uvicorn, Redis,
PostgreSQL, websockets) that must report every frame delivered once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.frames import count_socket, frame_revs, latency_summary
from bench.report import Result, frames_analyse, storm_analyse

REPO = Path(__file__).resolve().parents[2]


def test_frame_revs_reads_posts_and_markers() -> None:
    post = b'<article class="post" id="post-7" data-seq="3" data-rev="12">x</article>'
    assert frame_revs(post) == ([12], None)
    assert frame_revs(b'<div class="caught-up" data-rev="40" hidden></div>') == ([], 40)
    assert frame_revs(b'<span id="viewer-count">3 viewers</span>') == ([], None)


def test_frame_revs_reads_a_whole_catch_up() -> None:
    header = b'<section id="jam-header" class="jam-header" data-rev="3">Q1</section>'
    post = b'<article class="post" id="post-%d" data-rev="%d">x</article>'
    removed = b'<div class="post-removed" data-post="9" data-rev="8" hidden></div>'
    marker = b'<div class="caught-up" data-rev="9" hidden></div>'
    catch_up = header + post % (4, 3) + post % (5, 5) + removed + marker
    assert frame_revs(catch_up) == ([3, 5, 8], 9)


def test_count_socket_finds_the_gap_and_the_duplicate() -> None:
    count = count_socket(expected=[1, 2, 3, 4, 5], received=[1, 2, 2, 4, 5])
    assert (count.delivered, count.lost, count.duplicated) == (4, 1, 1)
    assert count.unexpected == 0 and count.out_of_order == 0  # a repeat is not a step back


def test_count_socket_flags_out_of_order_and_unexpected() -> None:
    count = count_socket(expected=[1, 2, 3], received=[2, 1, 3, 9])
    assert (count.delivered, count.lost, count.duplicated) == (3, 0, 0)
    assert count.out_of_order == 1 and count.unexpected == 1


def test_frames_analyse_totals_sockets_and_times_from_commit() -> None:
    saved = {10: 100.0, 11: 100.5, 12: 101.0}
    sockets = [
        {"revs": [10, 11, 12], "times": [100.1, 100.6, 101.1], "connects": 1, "gave_up": False},
        {"revs": [10, 12, 12], "times": [100.2, 101.3, 101.4], "connects": 2, "gave_up": False},
    ]
    result = Result(label="t", viewers=2, moderators=0, workers=1)
    frames_analyse(result, saved, sockets, posting_started=100.0)
    assert (result.delivered, result.lost, result.duplicated) == (5, 1, 1)
    assert result.reconnects == 1
    assert result.latency_ms["max"] == pytest.approx(400, abs=1)
    assert latency_summary([0.1] * 99 + [1.0])["p99"] == pytest.approx(100)


def test_storm_analyse_waits_for_every_socket() -> None:
    sockets = [{"markers": [(1.0, 5), (12.0, 9)]}, {"markers": [(1.0, 5), (13.5, 9)]}]
    storm = storm_analyse(sockets, killed=10.0, up=11.0, deadline=10)
    assert storm["all_caught_up_after_up_s"] == pytest.approx(2.5)
    assert storm["within_deadline"]
    late = storm_analyse([{"markers": [(1.0, 5)]}], killed=10.0, up=11.0, deadline=10)
    assert late["not_caught_up"] == 1 and not late["within_deadline"]


@pytest.mark.services
def test_a_tiny_real_run_delivers_every_frame_once(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = dict(os.environ)
    env.pop("DEBUG", None)
    argv = [
        sys.executable,
        "-m",
        "bench.fanout",
        "--servers",
        "jamhost-hub",
        "--viewers",
        "5",
        "--moderators",
        "1",
        "--rate",
        "5",
        "--duration",
        "2",
        "--database-url",
        os.environ["DATABASE_URL"],
        "--json",
        str(out),
    ]
    done = subprocess.run(argv, cwd=REPO, env=env, timeout=240, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    [result] = json.loads(out.read_text())
    assert result["posts"] == 10 and result["post_errors"] == 0
    assert result["delivered"] == 10 * 6
    assert (result["lost"], result["duplicated"], result["unexpected"]) == (0, 0, 0)
    assert result["latency_ms"]["p99"] > 0
    assert result["us_per_frame"] > 0


@pytest.mark.services
def test_a_tiny_run_through_the_page_counts_every_post_and_frame(tmp_path: Path) -> None:
    """--via page: signed-in people post through the compose box over HTTP (session,
    CSRF, htmx headers); every POST is answered "Posted", stored, and reaches every
    socket once, and the server's CPU per POST is reported."""
    out = tmp_path / "results.json"
    env = dict(os.environ)
    env.pop("DEBUG", None)
    argv = [
        sys.executable,
        "-m",
        "bench.fanout",
        "--via",
        "page",
        "--users",
        "3",
        "--servers",
        "jamhost-hub",
        "--viewers",
        "5",
        "--moderators",
        "1",
        "--rate",
        "5",
        "--duration",
        "2",
        "--database-url",
        os.environ["DATABASE_URL"],
        "--json",
        str(out),
    ]
    done = subprocess.run(argv, cwd=REPO, env=env, timeout=240, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    [result] = json.loads(out.read_text())
    assert result["post_requests"] == 10 and result["posts"] == 10
    assert (result["non_2xx"], result["refused"], result["told_failed_but_stored"]) == (0, 0, 0)
    assert result["delivered"] == 10 * 6
    assert (result["lost"], result["duplicated"], result["unexpected"]) == (0, 0, 0)
    assert result["post_latency_ms"]["p99"] > 0 and result["latency_ms"]["p99"] > 0
    assert result["ms_per_post"] > 0
