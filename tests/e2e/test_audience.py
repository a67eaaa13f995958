"""Audience participation in real browsers on the demo jam: a panelist upvotes the guest's
question and the count changes on the guest's screen without a reload; a reply arrives
threaded under its post, collapsed with a count; a flag is taken; people to follow link to
their profiles and a follow-up mark sticks across a reload. No script or CSP errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, axe_check, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DEMO = "/jams/demo-remote-work-jam/live/"
QUESTION = "Is there a transcript afterwards?"


def log_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(server.url + "/accounts/login/?next=" + DEMO)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("jamhost-demo")
    page.get_by_role("button", name=re.compile("Log in")).click()
    expect(page.locator(".site-header .who")).to_have_text(f"@{username}")
    expect(page.locator("#connection-status")).to_have_text("live")


def test_audience_participation_in_the_browser(
    jamhost_server: LiveServer, browser: Any, screenshots: Path
) -> None:
    server = jamhost_server
    server.manage("demo")
    guest_ctx, panel_ctx, mod_ctx, screen_ctx = (new_context(browser) for _ in range(4))
    guest, panelist = guest_ctx.new_page(), panel_ctx.new_page()
    moderator, screen = mod_ctx.new_page(), screen_ctx.new_page()
    errors: list[str] = []
    for page in (guest, panelist, moderator, screen):
        watch_errors(page, errors)
    try:
        log_in(guest, server, "demo_guest")
        log_in(panelist, server, "demo_panelist")
        log_in(moderator, server, "demo_moderator")
        moderator.goto(server.url + DEMO.replace("/live/", "/console/"))
        expect(moderator.locator("#connection-status")).to_have_text("live")
        screen.goto(server.url + DEMO.replace("/live/", "/screen/"))
        expect(screen.locator("#connection-status")).to_have_text("live")
        top = screen.locator("#top-questions article.post", has_text=QUESTION)
        expect(top.locator(".upvote-count")).to_have_text("0")
        guest_question = guest.locator("article.post", has_text=QUESTION)
        panel_question = panelist.locator("article.post", has_text=QUESTION)
        expect(guest_question.locator(".upvote-count")).to_have_text("0")

        # The panelist upvotes: their button shows it is theirs; the guest's count moves.
        panel_question.locator(".upvote").click()
        expect(panelist.locator("#audience-notice")).to_have_text("Upvoted.")
        expect(
            panelist.locator("article.post", has_text=QUESTION).locator(".upvote")
        ).to_have_attribute("aria-pressed", "true")
        expect(guest_question.locator(".upvote-count")).to_have_text("1")
        # The big screen's top questions follow live.
        expect(top.locator(".upvote-count")).to_have_text("1")
        # The room can show audience questions alone, most upvoted first.
        guest.get_by_label("Audience questions, most upvoted first").check()
        expect(guest.locator("#stream > article.post", has_text="Deep work")).to_be_hidden()
        expect(guest_question).to_be_visible()
        guest.get_by_label("Audience questions, most upvoted first").uncheck()
        expect(guest.locator("#stream > article.post", has_text="Deep work")).to_be_visible()
        # The guest cannot upvote their own question (greyed out, marked as theirs).
        expect(guest_question).to_have_class(re.compile(r"\bmine\b"))

        # A reply, threaded under the question on the guest's screen, collapsed with a count.
        panelist.locator("article.post", has_text=QUESTION).get_by_role(
            "button", name="Reply"
        ).click()
        panelist.get_by_label(re.compile("Reply to")).fill("Yes, replay and exports.")
        panelist.locator(".reply-form").get_by_role("button", name="Reply").click()
        expect(panelist.locator("#audience-notice")).to_have_text("Replied.")
        toggle = guest.locator("article.post", has_text=QUESTION).locator(".thread-toggle")
        expect(toggle).to_have_text(re.compile(r"1 reply"))
        reply = guest.locator(".replies article.post", has_text="replay and exports")
        expect(reply).to_be_hidden()
        toggle.click()
        expect(reply).to_be_visible()
        # Still threaded, and still open, after the parent is replaced by a newer rev
        # (the panelist takes the upvote back).
        panelist.locator("article.post", has_text=QUESTION).locator(".upvote").first.click()
        expect(panelist.locator("#audience-notice")).to_have_text("Upvote taken back.")
        expect(guest_question.locator(".upvote-count").first).to_have_text("0")
        expect(reply).to_be_visible()
        expect(
            guest.locator("#stream > article.post > .post-text", has_text="replay and exports")
        ).to_have_count(0)

        # A flag from the guest on a panelist's answer.
        answer = guest.locator("article.post", has_text="Deep work in the morning")
        answer.locator(".flag-menu summary").click()
        answer.get_by_role("button", name="Off-topic").click()
        expect(guest.locator("#audience-notice")).to_contain_text("Flagged")
        # Moderators see the flag and its reason, live, and dismiss it.
        flagged = moderator.locator("article.post", has_text="Deep work in the morning")
        expect(flagged.locator(".badge.flags")).to_have_text("⚑ 1 flag: off-topic 1")
        flagged.get_by_role("button", name="Dismiss flags").click()
        expect(moderator.locator("#audience-notice")).to_contain_text("dismissed")
        expect(flagged.locator(".badge.flags")).to_have_count(0)

        # People to follow: panelists first; a follow-up mark survives a reload.
        people = guest.locator("#people-panel li")
        expect(people.first).to_have_class(re.compile("panelist"))

        def pat() -> Any:
            handle = guest.locator(".handle", has_text=re.compile(r"^@demo_panelist$"))
            return guest.locator("#people-panel li").filter(has=handle)

        pat().get_by_role("button", name="Follow up").click()
        expect(guest.locator("#audience-notice")).to_contain_text("on your follow-up list")
        guest.reload()
        expect(pat().locator(".follow-toggle")).to_have_attribute("aria-pressed", "true")
        guest.screenshot(path=str(screenshots / "audience-guest.png"), full_page=True)
        violations = axe_check(guest, "audience room")
        assert not violations, violations
        assert not errors, errors
    finally:
        for context in (guest_ctx, panel_ctx, mod_ctx, screen_ctx):
            context.close()
