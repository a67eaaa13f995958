"""A poll in real browsers on the demo jam: the host launches it from the room, it
arrives on a viewer's screen live, the viewer votes and sees the bar move, the host's
screen and the big screen follow. The host closes it early and the viewer can no longer
vote. The console's audit log lists the launch and the early close as they happen. No
script or CSP errors, and no serious axe violations on the poll."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, axe_check, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DEMO = "/jams/demo-remote-work-jam/live/"
QUESTION = "Where do you work best?"


def log_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(server.url + "/accounts/login/?next=" + DEMO)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("jamhost-demo")
    page.get_by_role("button", name=re.compile("Log in")).click()
    expect(page.locator(".site-header .who")).to_have_text(f"@{username}")
    expect(page.locator("#connection-status")).to_have_text("live")


def test_a_viewer_votes_and_sees_the_bar_move(
    jamhost_server: LiveServer, browser: Any, screenshots: Path
) -> None:
    server = jamhost_server
    server.manage("demo")
    host_ctx, guest_ctx, screen_ctx = (new_context(browser) for _ in range(3))
    host, guest, screen = host_ctx.new_page(), guest_ctx.new_page(), screen_ctx.new_page()
    errors: list[str] = []
    for page in (host, guest, screen):
        watch_errors(page, errors)
    try:
        log_in(guest, server, "demo_guest")
        log_in(host, server, "demo_host")
        screen.goto(server.url + DEMO.replace("/live/", "/screen/"))
        expect(screen.locator("#connection-status")).to_have_text("live")
        console = host_ctx.new_page()
        watch_errors(console, errors)
        console.goto(server.url + DEMO.replace("/live/", "/console/"))
        expect(console.locator("#connection-status")).to_have_text("live")
        audit = console.locator(".console-audit")
        expect(audit.locator(".audit-entry", has_text=QUESTION)).to_have_count(0)

        # The host launches a poll from the room.
        host.get_by_text("Launch a poll now").click()
        launch = host.locator(".poll-launch form")
        launch.get_by_label("Question").fill(QUESTION)
        launch.get_by_label("Option 1").fill("Home")
        launch.get_by_label("Option 2").fill("Office")
        launch.get_by_label("Option 3").fill("Café")
        launch.get_by_role("button", name="Open the poll").click()
        expect(host.locator(".messages")).to_contain_text("The poll is open for 5 minutes.")
        # The console's audit log shows the launch, live, beside the moderation actions.
        launched = audit.locator('.audit-entry[data-action="poll_launch"]', has_text=QUESTION)
        expect(launched).to_contain_text("@demo_host launched a poll")
        expect(launched).to_contain_text("options: – → Home, Office, Café")

        # It reaches the guest's open page live, without a reload.
        poll = guest.locator("section.poll", has_text=QUESTION)
        expect(poll).to_be_visible()
        expect(poll.locator(".poll-total")).to_have_text("0 votes")
        office = poll.locator(".poll-option", has_text="Office")
        expect(office.locator(".poll-fill")).to_have_attribute("style", "width: 0%")

        # The guest votes: the bar moves on their screen, the host's and the big screen.
        office.get_by_role("button", name="Office").click()
        expect(poll.locator(".poll-notice")).to_have_text("Your vote is counted.")
        expect(office.locator(".poll-fill")).to_have_attribute("style", "width: 100%")
        expect(office).to_have_class(re.compile(r"\bpoll-mine\b"))
        expect(poll.locator(".poll-total")).to_have_text("1 vote")
        for other in (host, screen):
            bar = other.locator("section.poll", has_text=QUESTION).locator(
                ".poll-option", has_text="Office"
            )
            expect(bar.locator(".poll-fill")).to_have_attribute("style", "width: 100%")

        # The guest changes their mind: one vote, now for Home.
        home = poll.locator(".poll-option", has_text="Home")
        home.get_by_role("button", name="Home").click()
        expect(home.locator(".poll-fill")).to_have_attribute("style", "width: 100%")
        expect(office.locator(".poll-fill")).to_have_attribute("style", "width: 0%")
        expect(poll.locator(".poll-total")).to_have_text("1 vote")
        guest.screenshot(path=str(screenshots / "poll-room.png"))

        # The host closes it early: the guest's buttons stop working, the counts stay.
        host.once("dialog", lambda dialog: dialog.accept())
        host.locator("section.poll", has_text=QUESTION).get_by_role(
            "button", name="Close the poll now"
        ).click()
        expect(poll).to_have_attribute("data-state", "closed")
        expect(poll.locator(".poll-meta")).to_contain_text("Closed")
        expect(home.get_by_role("button", name="Home")).to_be_disabled()
        expect(home.locator(".poll-fill")).to_have_attribute("style", "width: 100%")
        closed = audit.locator('.audit-entry[data-action="poll_close"]', has_text=QUESTION)
        expect(closed).to_contain_text("@demo_host closed a poll early")
        expect(closed).to_contain_text("state: open → closed")
        # After a reload the guest still sees which option was theirs.
        guest.reload()
        expect(home).to_have_class(re.compile(r"\bpoll-mine\b"))
        expect(office).not_to_have_class(re.compile(r"\bpoll-mine\b"))

        bad = axe_check(guest, "poll in the room")
        assert not [v for v in bad if "poll" in " ".join(v["nodes"])], bad
        assert not errors, errors
    finally:
        for ctx in (host_ctx, guest_ctx, screen_ctx):
            ctx.close()
