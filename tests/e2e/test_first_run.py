"""First run, as `make run` does it: the embedded default (SQLite, no Redis), the demo jam
loaded, and the server replaying the recorded jam into it. A newcomer sees posts arrive
without a reload, logs in as the demo panelist and posts from a phone, and the moderator's
console shows it. Screenshots of the main screens on a phone (390x844), a laptop and a
projector (1920x1080), light and dark, go to artifacts/screenshots/look-*.png; axe-core
runs on each."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, LiveServer, axe_check, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROOM = "/jams/demo-remote-work-jam/live/"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`make run`: DEBUG on, a SQLite file, no REDIS_URL, DEMO_REPLAY on, the demo jam
    on three networks."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        DJANGO_SETTINGS_MODULE="jamhost.settings",
        DEBUG="true",
        DEMO_REPLAY="true",
        SQLITE_PATH=str(tmp_path_factory.mktemp("first-run") / "jamhost.sqlite3"),
        UVICORN_LOG_LEVEL="warning",
        PYTHONUNBUFFERED="1",
    )
    server = LiveServer(env=env, log_path=ROOT / "artifacts" / "e2e-first-run.log")
    server.log_path.parent.mkdir(exist_ok=True)
    server.log_path.write_bytes(b"")
    try:
        server.manage("migrate", "--noinput")
        server.manage("demo")
        server.manage("demo_networks")
        server.start()
        yield server
    finally:
        server.stop()


def log_in(page: Page, server: LiveServer, username: str, next_url: str) -> None:
    page.goto(f"{server.url}/accounts/login/?next={next_url}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("jamhost-demo")
    page.locator("#main").get_by_role("button", name="Log in").click()
    expect(page.locator(".site-header .who")).to_have_text(f"@{username}")


def test_first_run_shows_a_live_jam_with_the_recording_playing(
    first_run: LiveServer, browser: Any, screenshots: Path
) -> None:
    server = first_run
    violations: list[dict[str, Any]] = []
    errors: list[str] = []
    opened: list[Any] = []

    def person(**kwargs: Any) -> Page:
        context = new_context(browser, **kwargs)
        opened.append(context)
        page = context.new_page()
        watch_errors(page, errors)
        return page

    def look(page: Page, name: str) -> None:
        page.screenshot(path=str(screenshots / f"look-{name}.png"), full_page=False)
        violations.extend(axe_check(page, name))

    try:
        # The newcomer opens the front page: the demo jam is live, one click away.
        viewer = person()
        viewer.goto(server.url + "/")
        live = viewer.locator("section[aria-labelledby=live-h] .jam-card")
        expect(live).to_contain_text("Remote Work Jam (demo)")
        look(viewer, "jam-list")
        live.get_by_role("link", name="Join live").click()
        expect(viewer.locator("#connection-status")).to_have_text("live")
        # Screen readers hear new posts politely, without losing their place.
        expect(viewer.locator("#stream")).to_have_attribute("aria-live", "polite")
        expect(viewer.locator("#stream")).to_have_attribute("role", "log")
        # The demo jam runs on three networks: posts from each carry its badge and link.
        for network, label in (("x", "X"), ("bluesky", "Bluesky"), ("mastodon", "Mastodon")):
            badge = viewer.locator(f"#stream article.post .net-badge.net-{network}").first
            expect(badge).to_have_text(label)
        origin = viewer.locator("#stream article.post:has(.net-bluesky) a.net-origin").first
        assert (origin.get_attribute("href") or "").startswith("https://bsky.app/profile/")
        before = viewer.locator("#stream article.post").count()
        # The recording plays: its first posts arrive within seconds, without a reload.
        expect(viewer.locator("#stream article.post")).not_to_have_count(before, timeout=30_000)
        expect(viewer.locator("#stream")).to_contain_text("shared calendar", timeout=30_000)
        newest = viewer.locator("#stream article.post").last
        expect(newest.locator("time.rel-time")).to_have_text(re.compile("just now|min"))
        title = newest.locator("time.rel-time").get_attribute("title") or ""
        assert re.search(r"\d{1,2}:\d{2}:\d{2}", title), title  # the exact time on hover
        look(viewer, "room-laptop-light")

        # A projector: big and readable at a glance.
        projector = person(viewport={"width": 1920, "height": 1080})
        projector.goto(server.url + ROOM)
        expect(projector.locator("#connection-status")).to_have_text("live")
        size = projector.locator("#jam-header .question-text").evaluate(
            "el => parseFloat(getComputedStyle(el).fontSize)"
        )
        assert size >= 32, size
        look(projector, "room-projector")

        # Dark theme follows the system.
        night = person(dark=True)
        night.goto(server.url + ROOM)
        expect(night.locator("#connection-status")).to_have_text("live")
        background = night.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 17, 24)", background
        look(night, "room-laptop-dark")

        # The demo panelist on a phone: the compose box in thumb reach, and posting works.
        phone = person(phone=True)
        log_in(phone, server, "demo_panelist", ROOM)
        expect(phone.locator("#connection-status")).to_have_text("live")
        box = phone.locator("#compose-body")
        # The first screen shows posts; the compose box is one line until tapped.
        expect(phone.locator("#stream article.post").first).to_be_in_viewport()
        look(phone, "room-phone-panelist")
        box.tap()
        button = phone.get_by_role("button", name="Post", exact=True)
        bounds = button.bounding_box()
        assert bounds is not None and bounds["height"] >= 44 and bounds["width"] >= 44, bounds
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        box.fill("Hello from my phone, one thumb only.")
        # `make run` offers no network: the local limit.
        expect(phone.locator("#compose-count .count")).to_contain_text("/ 500")
        button.click()
        expect(phone.locator("#compose [role=status]")).to_have_text("Posted.")
        expect(viewer.locator("#stream")).to_contain_text("Hello from my phone")

        # The phone in dark mode, anonymous: the stream and the sign-in hint.
        phone_dark = person(phone=True, dark=True)
        phone_dark.goto(server.url + ROOM)
        expect(phone_dark.locator("#connection-status")).to_have_text("live")
        assert phone_dark.evaluate("document.documentElement.scrollWidth") <= 390
        look(phone_dark, "room-phone-dark")

        # The moderator's console, and the jam page.
        mod = person(viewport={"width": 1440, "height": 900})
        log_in(mod, server, "demo_moderator", "/jams/demo-remote-work-jam/console/")
        expect(mod.locator("#connection-status")).to_have_text("live")
        expect(mod.locator("#stream")).to_contain_text("Hello from my phone")
        look(mod, "console")
        viewer.goto(server.url + "/jams/demo-remote-work-jam/")
        look(viewer, "jam-page")

        # Keyboard only: the skip link comes first and is visible when focused; Tab
        # reaches the compose box with a visible focus ring.
        keys = person()
        keys.goto(server.url + ROOM)
        keys.keyboard.press("Tab")
        skip = keys.locator(".skip-link")
        expect(skip).to_be_focused()
        assert skip.evaluate("el => el.getBoundingClientRect().left") >= 0
        outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
        assert outline != "none", outline
        # The panelist posts with the keyboard alone: Tab to the box, type, Tab on to
        # Post (each stop shows a focus ring), Enter.
        log_in(keys, server, "demo_panelist2", ROOM)
        expect(keys.locator("#connection-status")).to_have_text("live")
        for _ in range(60):
            keys.keyboard.press("Tab")
            if keys.evaluate("document.activeElement.id") == "compose-body":
                break
        else:
            raise AssertionError("Tab never reached the compose box")
        keys.keyboard.type("Typed without a mouse.")
        for _ in range(5):
            keys.keyboard.press("Tab")
            focused = keys.evaluate(
                "[document.activeElement.textContent.trim(),"
                " getComputedStyle(document.activeElement).outlineStyle]"
            )
            assert focused[1] != "none", focused
            if focused[0] == "Post":
                break
        keys.keyboard.press("Enter")
        expect(keys.locator("#compose [role=status]")).to_have_text("Posted.")
        expect(mod.locator("#stream")).to_contain_text("Typed without a mouse.")

        # Error states read like the rest of the site and pass the same checks.
        missing = viewer.goto(server.url + "/jams/no-such-jam/")
        assert missing is not None and missing.status == 404
        expect(viewer.locator("h1")).to_be_visible()
        look(viewer, "not-found")
    finally:
        for context in opened:
            context.close()
    assert not violations, json.dumps(violations, indent=1)
    assert not errors, errors
