"""The replay of a large jam in a real browser: parts load as the reader scrolls (every post
reachable, none twice), the player plays every post once in order at 16x, and at 1x and 4x
crosses into a page it fetched ahead; replies sit under their post; a permalink opens
the replay at its post, ready to play; search jumps to a post; without JavaScript every
part is a link away. No script or CSP errors, no serious axe violations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from bench.xjam import HOST, x_jam
from tests.e2e.conftest import LiveServer, axe_check, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

POSTS = 1500
MINUTES = 4.0  # 1,500 posts in 4 minutes: 15 s at 16x, 15 player pages, 30+ parts


@pytest.fixture(scope="module")
def big_replay(jamhost_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    server = jamhost_server
    server.manage("demo")  # the demo accounts; demo_host imports
    made = x_jam(posts=POSTS, minutes=MINUTES)
    path = tmp_path_factory.mktemp("replay") / "big.json"
    path.write_text(made.dumps(), encoding="utf-8")
    out = server.manage(
        "import_transcript",
        str(path),
        "--host",
        "demo_host",
        "--format",
        "x",
        "--title",
        "Big replay jam",
        "--host-handle",
        HOST,
        "--panelists",
        ",".join(made.panelists),
    )
    found = re.search(r"\((/jams/[^/]+/transcript/)\)", out)
    assert found, out
    return found.group(1)


def transcript_seqs(page: Page) -> list[int]:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#transcript article.post'),"
        " a => parseInt(a.dataset.seq, 10))"
    )


def watch_stream(page: Page) -> None:
    page.evaluate(
        """() => {
          const stream = document.getElementById('replay-stream');
          window.__played = Array.from(stream.querySelectorAll('article.post'),
                                       a => parseInt(a.dataset.seq, 10));
          new MutationObserver(records => records.forEach(r => r.addedNodes.forEach(n => {
            if (n.dataset && n.dataset.seq) window.__played.push(parseInt(n.dataset.seq, 10));
          }))).observe(document.getElementById('replay-stream'), {childList: true});
        }"""
    )


def wait_until(page: Page, script: str, timeout_s: float) -> None:
    """Poll `script` (a function) in the page until it is true; the page's
    Content-Security-Policy forbids the eval that wait_for_function uses."""
    import time

    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"not true within {timeout_s} s: {script}"
        page.wait_for_timeout(100)


def settled(page: Page) -> None:
    expect(page.locator("#player")).to_have_attribute("data-waiting", "false")


def test_every_post_reachable_by_scrolling_and_by_the_player(
    jamhost_server: LiveServer, browser: Any, big_replay: str, screenshots: Path
) -> None:
    context = new_context(browser)
    page = context.new_page()
    errors: list[str] = []
    watch_errors(page, errors)
    try:
        page.goto(jamhost_server.url + big_replay)
        first = transcript_seqs(page)
        assert 0 < len(first) <= 50  # one part on the page
        assert page.locator("#transcript a.part-more").count() >= 9
        # Scroll down as a reader would, then back to whatever was scrolled past before it
        # arrived, until nothing is left to load.
        placeholders = page.locator("#transcript a.part-more")
        for _ in range(300):
            if page.evaluate("innerHeight + scrollY >= document.body.scrollHeight - 2"):
                break
            page.mouse.wheel(0, 2500)
            page.wait_for_timeout(50)
        for _ in range(200):
            if placeholders.count() == 0:
                break
            placeholders.first.scroll_into_view_if_needed()
            page.wait_for_timeout(100)
        expect(placeholders).to_have_count(0, timeout=30_000)
        seqs = transcript_seqs(page)
        assert len(seqs) == len(set(seqs)) == POSTS  # none twice
        assert sorted(seqs) == list(range(1, POSTS + 1))  # every post
        # Replies: marked, each in a block under the post it answers.
        blocks = page.evaluate(
            """() => Array.from(document.querySelectorAll('#transcript .replies'), block => {
                 const root = document.getElementById('post-' + block.dataset.thread);
                 return {
                   before: !!root && !!(root.compareDocumentPosition(block)
                                        & Node.DOCUMENT_POSITION_FOLLOWING),
                   head: block.querySelector('.replies-head').textContent,
                   replies: block.querySelectorAll('article.post .reply-context').length,
                   posts: block.querySelectorAll('article.post').length,
                   indent: parseFloat(getComputedStyle(block).marginLeft),
                 };
               })"""
        )
        assert len(blocks) > 20
        for block in blocks:
            assert block["before"] and block["replies"] == block["posts"] > 0, block
            assert "repl" in block["head"] and block["indent"] > 0, block
        page.screenshot(path=str(screenshots / "replay-large-scrolled.png"))

        # The player at 16x: every post once, in the order they arrived.
        page.evaluate("window.scrollTo(0, 0)")
        settled(page)
        watch_stream(page)
        page.get_by_label("16×").check()
        page.get_by_role("button", name="Play").click()
        expect(page.get_by_role("button", name="Play")).to_be_visible(timeout=240_000)
        played = page.evaluate("window.__played")
        assert played == list(range(1, POSTS + 1)), (len(played), played[:5], played[-5:])
        stalls = page.locator("#player").get_attribute("data-stalls")
        print(f"16x: {POSTS} posts played, {stalls or 0} waits for a page")
        assert page.locator("#replay-stream article.post").count() <= 300  # memory bounded
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("speed", ["1", "4"])
def test_playback_crosses_page_boundaries_fetched_ahead(
    jamhost_server: LiveServer, browser: Any, big_replay: str, speed: str
) -> None:
    context = new_context(browser)
    page = context.new_page()
    errors: list[str] = []
    watch_errors(page, errors)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/play/" in r.url else None)
    try:
        # Opened at post 190, ten posts before the player's third page.
        page.goto(jamhost_server.url + big_replay + "posts/190/")
        settled(page)
        expect(page.locator("#replay-stream article.post").last).to_have_attribute(
            "data-seq", "190"
        )
        watch_stream(page)
        page.get_by_label(f"{speed}×").check()
        # The next page was asked for before the reader pressed Play: crossing into it
        # does not wait for the network (how long a fetch takes here is not asserted).
        assert any(url.endswith("/play/3/") for url in asked), asked
        page.get_by_role("button", name="Play").click()
        wait_until(page, "() => window.__played.includes(215)", 120)
        page.get_by_role("button", name="Pause").click()
        played = page.evaluate("window.__played")
        start = played.index(190)
        assert played[start : start + 26] == list(range(190, 216))  # none skipped, none twice
        assert played[:start] == sorted(set(played[:start]))  # what was shown before it
        stalls = page.locator("#player").get_attribute("data-stalls")
        print(f"{speed}x across a page boundary: {stalls or 0} waits for a page")
        assert not errors, errors
    finally:
        context.close()


def test_a_permalink_opens_the_replay_at_its_post_ready_to_play(
    jamhost_server: LiveServer, browser: Any, big_replay: str, screenshots: Path
) -> None:
    context = new_context(browser, phone=True)
    page = context.new_page()
    errors: list[str] = []
    watch_errors(page, errors)
    try:
        page.goto(jamhost_server.url + big_replay + "posts/1234/")
        target = page.locator("#transcript #post-1234")
        expect(target).to_have_class(re.compile(r"\bfocused\b"))
        expect(target).to_be_in_viewport()
        settled(page)
        stream = page.locator("#replay-stream article.post")
        expect(stream.last).to_have_attribute("data-seq", "1234")
        clock = page.locator("#replay-clock").text_content() or ""
        assert re.match(r"3:1\d / [34]:\d\d", clock), clock  # post 1234 of 1,500 in 4 minutes
        page.screenshot(path=str(screenshots / "replay-permalink-phone.png"))
        violations = axe_check(page, "replay permalink")
        # Scrolling up from the post loads the parts above it, each once.
        before = len(transcript_seqs(page))
        for _ in range(100):
            page.evaluate("() => window.scrollBy(0, -800)")  # a phone has no wheel
            page.wait_for_timeout(100)
            if len(transcript_seqs(page)) > before:
                break
        assert len(transcript_seqs(page)) > before
        seqs = transcript_seqs(page)
        assert len(seqs) == len(set(seqs))
        page.get_by_label("16×").check()
        page.get_by_role("button", name="Play").click()
        expect(stream.last).not_to_have_attribute("data-seq", "1234", timeout=30_000)
        assert int(stream.last.get_attribute("data-seq") or 0) > 1234
        assert not violations, violations
        assert not errors, errors
    finally:
        context.close()


def test_search_jumps_to_the_post(
    jamhost_server: LiveServer, browser: Any, big_replay: str
) -> None:
    context = new_context(browser)
    page = context.new_page()
    errors: list[str] = []
    watch_errors(page, errors)
    try:
        page.goto(jamhost_server.url + big_replay)
        search = page.get_by_role("search", name="Search this jam")
        search.get_by_label("Author").fill("@panel3")
        search.get_by_label("Question").select_option("7")
        search.get_by_role("button", name="Search").click()
        hits = page.locator("#search-results .hit")
        expect(hits.first).to_be_visible()
        assert page.url.endswith(big_replay)  # the results came into the page
        count = page.locator("#search-results .count").text_content() or ""
        assert re.match(r"\d+ posts? found", count), count
        seq = hits.first.get_attribute("data-seq")
        hits.first.locator("a.hit-link").click()
        expect(page).to_have_url(re.compile(rf"/posts/{seq}/$"))
        target = page.locator(f"#transcript #post-{seq}")
        expect(target).to_have_class(re.compile(r"\bfocused\b"))
        expect(target).to_be_in_viewport()
        expect(target.locator(".handle")).to_have_text("@panel3")
        assert not errors, errors
    finally:
        context.close()


def test_without_javascript_parts_are_links(
    jamhost_server: LiveServer, browser: Any, big_replay: str
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(jamhost_server.url + big_replay)
        page.locator("#q2 a.part-more").click()
        expect(page).to_have_url(re.compile(r"/transcript/q2/\?part=1#part-q2-1$"))
        expect(page.locator("#part-q2-1 article.post").first).to_be_visible()
        page.locator("#q2 a.part-more").last.click()
        expect(page).to_have_url(re.compile(r"/transcript/q2/\?part=2#part-q2-2$"))
        expect(page.locator("#part-q2-2 article.post").first).to_be_visible()
    finally:
        context.close()
