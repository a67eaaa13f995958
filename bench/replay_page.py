"""Replay page benchmark: what a reader's browser gets and does when it opens a past jam.

    .venv/bin/python -m bench.replay_page [--posts 1000,10000,50000] [--runs 5] [--json FILE]

For each size it imports a jam through the import path (saved X search results made by
bench/xjam.py, `transcript_import`; the archive and the render task run on commit, in
the process, as in the embedded default), serves it with `python -m jamhost.serve` (the
embedded default, on a fresh SQLite file in a temporary directory) and opens the replay
page in /usr/bin/chromium (Playwright) at desktop (1280 by 900) and phone (390 by 844,
touch) sizes. Per page load:

- HTML bytes: the document as sent (decoded body); `total KB`: the document plus every
  other request made up to the load event (CSS, scripts, lazily loaded sections);
- elements: `document.getElementsByTagName("*").length` at DOMContentLoaded;
- TTFB and DOMContentLoaded: Navigation Timing, from the start of the navigation;
- posts: post fragments in the document at DOMContentLoaded.

Weight and element counts do not depend on the machine's load; the timings do: the load
average is printed with them. Medians over `--runs` loads (a fresh browser context each).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
ON_DCL = """
document.addEventListener("DOMContentLoaded", () => {
  window.__bench = {
    elements: document.getElementsByTagName("*").length,
    on_page: document.querySelectorAll("article.post").length,
  };
});
"""


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", default="1000,10000,50000", help="comma-separated sizes")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=60.0, help="how long each jam lasts")
    parser.add_argument("--json", default="", help="write every number to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return parser.parse_args()


def environment(directory: Path) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        DJANGO_SETTINGS_MODULE="jamhost.settings",
        SECRET_KEY="bench-replay-page-not-secret-" + "x" * 30,
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SQLITE_PATH=str(directory / "bench.sqlite3"),
        LOG_LEVEL="WARNING",
        UVICORN_LOG_LEVEL="warning",
        CELERY_EAGER="true",
        PYTHONUNBUFFERED="1",
    )
    return env


def build(
    sizes: list[int], env: dict[str, str], directory: Path, minutes: float = 60.0
) -> dict[int, dict[str, Any]]:
    """Import one jam per size (a child process with the server's settings)."""
    script = directory / "build.json"
    code = (
        "import json, sys, time\n"
        "import django\n"
        "django.setup()\n"
        "from django.core.management import call_command\n"
        "from bench.replay_page import build_in_process\n"
        "call_command('migrate', verbosity=0)\n"
        f"print(json.dumps(build_in_process({sizes!r}, {minutes!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"building the jams failed:\n{done.stdout}\n{done.stderr}")
    script.write_text(done.stdout)
    return {int(k): v for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def build_in_process(sizes: list[int], minutes: float = 60.0) -> dict[int, dict[str, Any]]:
    from django.contrib.auth import get_user_model

    from bench.xjam import HOST, x_jam
    from jamhost.transcripts.importer import ImportOptions, rows_read, transcript_import
    from jamhost.transcripts.models import Transcript
    from jamhost.transcripts.services import transcript_render

    owner, _ = get_user_model().objects.get_or_create(username="bench_reader_host")
    out: dict[int, dict[str, Any]] = {}
    for size in sizes:
        jam_file = x_jam(posts=size, minutes=minutes)
        options = ImportOptions(
            file_format="x",
            title=f"Replay benchmark, {size:,} posts",
            host_handle=HOST,
            panelists=jam_file.panelists,
        )
        started = time.perf_counter()
        payload = io.BytesIO(jam_file.dumps().encode())
        rows = rows_read(source=payload, file_format="x", options=options)
        jam = transcript_import(owner=owner, rows=rows, options=options)
        imported = time.perf_counter() - started
        transcript = Transcript.objects.filter(jam=jam).order_by("-version").first()
        assert transcript is not None
        transcript_render(transcript_id=transcript.pk)  # done on commit already: a no-op
        out[size] = {
            "slug": jam.slug,
            "posts": transcript.post_count,
            "import_s": round(imported, 2),
        }
    return out


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jamhost.serve", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the server did not start; see {log}")

    def stop(self) -> None:
        import signal

        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


def measure(browser: Any, url: str, viewport: str) -> dict[str, float]:
    context = browser.new_context(**VIEWPORTS[viewport], reduced_motion="reduce")
    try:
        context.add_init_script(ON_DCL)
        page = context.new_page()
        page.goto(url, wait_until="load", timeout=120_000)
        numbers = page.evaluate(
            """() => {
              const nav = performance.getEntriesByType("navigation")[0];
              const others = performance.getEntriesByType("resource")
                .filter(r => r.startTime <= nav.loadEventEnd);
              return {
                html_bytes: nav.decodedBodySize,
                total_bytes: nav.decodedBodySize
                  + others.reduce((sum, r) => sum + (r.decodedBodySize || 0), 0),
                ttfb_ms: nav.responseStart - nav.startTime,
                dcl_ms: nav.domContentLoadedEventEnd - nav.startTime,
                elements: window.__bench.elements,
                posts_on_page: window.__bench.on_page,
              };
            }"""
        )
        return {k: float(v) for k, v in numbers.items()}
    finally:
        context.close()


def main() -> int:
    args = parse()
    sizes = [int(s) for s in args.posts.split(",") if s.strip()]
    directory = Path(tempfile.mkdtemp(prefix="jh-replay-bench-"))
    env = environment(directory)
    print(f"directory: {directory}; sizes: {sizes}; runs: {args.runs} (medians)", flush=True)
    jams = build(sizes, env, directory, args.minutes)
    for size, jam in jams.items():
        print(
            f"  {size:>6} posts: imported, archived and its parts stored in {jam['import_s']} s",
            flush=True,
        )
    from playwright.sync_api import sync_playwright

    server = Server(env, directory / "server.log")
    results: list[dict[str, Any]] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )
            try:
                for size, jam in jams.items():
                    url = f"{server.url}/jams/{jam['slug']}/transcript/"
                    measure(browser, url, "desktop")  # warm the server's caches
                    for viewport in VIEWPORTS:
                        load = os.getloadavg()[0]
                        runs = [measure(browser, url, viewport) for _ in range(args.runs)]
                        row: dict[str, Any] = {"posts": size, "viewport": viewport}
                        for key in runs[0]:
                            row[key] = statistics.median(r[key] for r in runs)
                        row["dcl_ms_all"] = [round(r["dcl_ms"]) for r in runs]
                        row["load_before"] = round(load, 2)
                        row["load_after"] = round(os.getloadavg()[0], 2)
                        results.append(row)
                        print(
                            f"{size:>6} posts {viewport:7}  HTML {row['html_bytes'] / 1024:8.1f} KB"
                            f"  total {row['total_bytes'] / 1024:8.1f} KB"
                            f"  elements {row['elements']:7.0f}  posts {row['posts_on_page']:5.0f}"
                            f"  TTFB {row['ttfb_ms']:6.0f} ms  DCL {row['dcl_ms']:6.0f} ms"
                            f"  (load {row['load_before']}–{row['load_after']})",
                            flush=True,
                        )
            finally:
                browser.close()
    finally:
        server.stop()
    if args.json:
        Path(args.json).write_text(json.dumps({"jams": jams, "results": results}, indent=2))
    if not args.keep:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
