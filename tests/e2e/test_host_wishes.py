"""What hosts and panelists wished for, in a real browser: answers drafted ahead and sent
on release or with one tap; "Remind me", the reminder sent once and its unsubscribe link;
guests held, marked and taking their post back; the recap and the host's thank-you post.
The tests share one live jam and run in this order."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def people(jamhost_server: LiveServer) -> dict[str, Any]:
    prefix = "hw" + secrets.token_hex(3)
    out = jamhost_server.manage(
        "shell", "-c", f"from tests.e2e.host_wishes_data import main; main({prefix!r})"
    )
    line = next(x for x in out.splitlines() if x.startswith("HOST-WISHES-DATA "))
    return dict(json.loads(line.split(" ", 1)[1]))


def log_in(page: Page, server: LiveServer, username: str, password: str, then: str) -> None:
    page.goto(server.url + "/accounts/login/?next=" + then)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("Log in")).click()
    expect(page.locator(".site-header .who")).to_have_text(f"@{username}")


def test_answers_drafted_ahead(jamhost_server: LiveServer, browser: Any, people: dict) -> None:
    server, slug = jamhost_server, people["live"]
    context = new_context(browser)
    page = context.new_page()
    errors: list[str] = []
    watch_errors(page, errors)
    try:
        log_in(page, server, people["panelist"], people["password"], f"/jams/{slug}/")
        page.get_by_role("link", name="Draft your answers").click()
        q2 = page.locator("#q2")
        # No network is offered on this server: the local limit of 500 characters.
        q2.get_by_label("New draft for Q2").fill("x" * 600)
        q2.get_by_role("button", name="Save draft").click()
        expect(page.locator(".errorlist")).to_contain_text("over its limit of 500")
        page.locator("#q2").get_by_label("New draft for Q2").fill("Tapped when Q2 is out")
        page.locator("#q2").get_by_role("button", name="Save draft").click()
        expect(page.locator(".messages")).to_contain_text("Draft for Q2 saved.")
        q3 = page.locator("#q3")
        q3.get_by_label("New draft for Q3").fill("Goes out on release")
        q3.get_by_label("Send on release").check()
        q3.get_by_role("button", name="Save draft").click()
        expect(page.locator("#q3 .draft-count")).to_contain_text("A3: Goes out on release")

        page.goto(server.url + f"/jams/{slug}/live/")
        expect(page.locator("#connection-status")).to_have_text("live")
        expect(page.locator("#drafts-ready")).to_be_empty()
        server.manage(
            "shell", "-c", f"from tests.e2e.host_wishes_data import release; release({slug!r}, 2)"
        )
        send = page.get_by_role("button", name="Send Q2 answer")
        expect(send).to_be_visible()  # the panel polls: no reload
        send.click()
        expect(page.locator(".messages")).to_contain_text("Your answer to Q2 is posted.")
        expect(
            page.locator("#stream article.post", has_text="A2: Tapped when Q2 is out")
        ).to_have_count(1)
        server.manage(
            "shell", "-c", f"from tests.e2e.host_wishes_data import release; release({slug!r}, 3)"
        )
        if "REDIS_URL" in server.env:
            # Production's sweeps run on Celery beat, which this stack does not start:
            # run the drafts sweep as beat would. (The embedded server runs it itself.)
            server.manage(
                "shell", "-c", "from jamhost.posts.tasks import drafts_sweep; drafts_sweep()"
            )
        # The sweep sends it; it arrives over the socket like any post.
        expect(
            page.locator("#stream article.post", has_text="A3: Goes out on release")
        ).to_have_count(1)
        expect(page.locator("#drafts-ready")).not_to_contain_text("Send Q3")

        host_context = new_context(browser)
        host = host_context.new_page()
        log_in(host, server, people["host"], people["password"], f"/jams/{slug}/edit/")
        host.get_by_role("link", name="Who has drafted answers").click()
        row = host.locator("tr", has_text="question 2?")
        expect(row).to_contain_text(f"@{people['panelist']}")
        expect(row).to_contain_text("1 sent")
        host_context.close()
        assert errors == []
    finally:
        context.close()


def test_rsvp_reminder_and_unsubscribe(
    jamhost_server: LiveServer, browser: Any, people: dict
) -> None:
    server, slug = jamhost_server, people["upcoming"]
    context = new_context(browser)
    page = context.new_page()
    errors: list[str] = []
    watch_errors(page, errors)
    try:
        page.goto(server.url + f"/jams/{slug}/")
        coming = page.locator(".coming")
        expect(coming).to_have_text("1 person is coming.")  # the panelist
        email = page.get_by_label("Email")
        email.fill("not an address")
        # The browser's own check first; without it the server's message.
        email.evaluate("e => e.type = 'text'")
        page.get_by_role("button", name="Remind me by email").click()
        expect(page.locator(".messages")).to_contain_text("Enter a valid email address")
        page.get_by_label("Email").fill("reader@example.org")
        page.get_by_role("button", name="Remind me by email").click()
        expect(page.locator(".messages")).to_contain_text("You will be reminded")
        expect(coming).to_have_text("2 people are coming.")

        printed = server.manage(
            "shell", "-c", f"from tests.e2e.host_wishes_data import remind; remind({slug!r}, 23)"
        )
        to_reader = [m for m in printed.split("Subject: ") if "reader@example.org" in m]
        assert len(to_reader) == 1 and to_reader[0].startswith("Starting in 24 hours")
        assert f"/jams/{slug}/live/" in to_reader[0] and "text/calendar" in to_reader[0]
        again = server.manage(
            "shell", "-c", f"from tests.e2e.host_wishes_data import remind; remind({slug!r}, 22)"
        )
        assert "reader@example.org" not in again  # sent once
        link = re.search(r"/reminders/unsubscribe/[^/\s]+/", to_reader[0])
        assert link is not None
        page.goto(server.url + link.group(0))
        page.get_by_role("button", name="Unsubscribe").click()
        expect(page.locator(".unsubscribed")).to_contain_text("reader@example.org")
        page.goto(server.url + f"/jams/{slug}/")
        expect(page.locator(".coming")).to_have_text("1 person is coming.")
        assert errors == []
    finally:
        context.close()


def test_guest_posts_held_marked_and_taken_back(
    jamhost_server: LiveServer, browser: Any, people: dict
) -> None:
    server, slug = jamhost_server, people["live"]
    host_context, guest_context = new_context(browser), new_context(browser)
    host, guest = host_context.new_page(), guest_context.new_page()
    errors: list[str] = []
    watch_errors(host, errors)
    watch_errors(guest, errors)
    try:
        guest.goto(server.url + f"/jams/{slug}/live/")
        expect(guest.locator("#guest-box")).to_have_count(0)  # not allowed yet
        log_in(host, server, people["host"], people["password"], f"/jams/{slug}/edit/")
        settings = host.locator("#guests")
        settings.get_by_label("Let people post without an account").check()
        expect(settings.get_by_label("Hold guests' posts")).to_be_checked()  # the default
        settings.get_by_role("button", name="Save guest posting").click()
        expect(host.locator(".messages")).to_contain_text("Guest posting saved.")
        host.goto(server.url + f"/jams/{slug}/console/")
        expect(host.locator("#connection-status")).to_have_text("live")

        guest.goto(server.url + f"/jams/{slug}/live/")
        box = guest.locator("#guest-box")
        box.get_by_label("Your name").fill("PAT  PANEL")  # the panelist's name, shouted
        box.get_by_role("button", name="Post as a guest").click()
        expect(guest.locator(".messages")).to_contain_text("looks like the name of this jam's")
        guest.locator("#guest-box").get_by_label("Your name").fill("Rae Reader")
        guest.locator("#guest-box").get_by_role("button", name="Post as a guest").click()
        expect(guest.locator(".messages")).to_contain_text("You are posting as Rae Reader (guest)")
        guest.get_by_label("Your post").fill("Will there be a recording?")
        guest.get_by_role("button", name="Post as guest").click()
        expect(guest.locator(".messages")).to_contain_text("a moderator approves it")
        expect(guest.locator(".guest-posts")).to_contain_text("(pending)")
        in_stream = guest.locator("#stream article.post", has_text="Will there be a recording?")
        expect(in_stream).to_have_count(0)  # held

        held = host.locator("article.post", has_text="Will there be a recording?")
        expect(held.locator(".badge.guest")).to_have_text("guest")
        held.get_by_role("button", name="Approve").click()
        expect(in_stream).to_have_count(1)  # live, no reload
        expect(in_stream.locator(".badge.guest")).to_have_text("guest")
        expect(in_stream.locator(".handle")).to_have_count(0)

        guest.reload()
        guest.locator(".guest-posts").get_by_role("button", name="Delete").click()
        expect(guest.locator(".messages")).to_contain_text("Your post is deleted.")
        expect(
            guest.locator("#stream article.post", has_text="Will there be a recording?")
        ).to_have_count(0)
        expect(held).to_have_attribute("data-status", "hidden")
        assert errors == []
    finally:
        host_context.close()
        guest_context.close()


def test_recap_and_thank_you(jamhost_server: LiveServer, browser: Any, people: dict) -> None:
    server, slug = jamhost_server, people["live"]
    server.manage("shell", "-c", f"from tests.e2e.host_wishes_data import end; end({slug!r})")
    context = new_context(browser)
    page = context.new_page()
    errors: list[str] = []
    watch_errors(page, errors)
    try:
        log_in(page, server, people["host"], people["password"], f"/jams/{slug}/")
        page.get_by_role("link", name="The recap").click()
        expect(page.locator("h1")).to_contain_text("Recap: Drafts jam")
        q2 = page.locator("#recap-q2")
        expect(q2).to_contain_text("A2: Tapped when Q2 is out")
        expect(page.locator("#recap-q3")).to_contain_text("A3: Goes out on release")
        thanks = page.locator(".contributors li", has_text="Pat Panel")
        expect(thanks).to_contain_text(f"@{people['panelist']}")
        expect(thanks.locator(".new-face")).to_have_text("new face")
        # The guest took their only post back: not thanked, not counted.
        expect(page.locator(".contributors")).not_to_contain_text("Rae Reader")
        expect(page.locator(".recap-numbers")).to_have_text("2 posts by 1 person (2 on jamhost).")
        markdown = page.request.get(server.url + f"/jams/{slug}/recap.md")
        assert markdown.ok and "## Q2: Drafts jam: question 2?" in markdown.text()
        page.get_by_role("button", name="Publish the thank-you post").click()
        expect(page.locator(".messages")).to_contain_text("Your thank-you post is published")
        expect(page.locator(".thank-you")).to_contain_text("Posted: “Thank you to everyone")
        page.goto(server.url + f"/jams/{slug}/live/")
        expect(page.locator("#stream article.post", has_text="The recap:")).to_have_count(1)
        assert errors == []
    finally:
        context.close()
