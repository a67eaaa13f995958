"""The whole hour in a real browser: a host signs up and schedules a jam with three
questions; two panelists and a moderator accept their invites; a viewer watches without an
account; the jam goes live, questions are released, posts reach every screen without a
reload, a hidden post vanishes, pause holds "N new", a dropped connection comes back with
nothing missing, and the ended jam is archived, replayed and exported.

Each person has a browser context of their own. Screenshots of each screen go to
artifacts/screenshots/flow-*.png; axe-core violations (serious or critical) fail the test.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import CuttableProxy, LiveServer, axe_check, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

PASSWORD = "correct-horse-battery-9"


def shot(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"flow-{name}.png"), full_page=True)


def sign_up(page: Page, server: LiveServer, username: str, next_url: str = "") -> None:
    page.goto(server.url + "/accounts/signup/" + (f"?next={next_url}" if next_url else ""))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Display name").fill(username.replace("_", " ").title())
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".site-header .who")).to_have_text(f"@{username}")


def accept_invite(page: Page, server: LiveServer, link: str, username: str) -> None:
    page.goto(link)
    # Not signed in: the invite shows the jam and offers to sign up (or log in) first.
    page.locator("#main").get_by_role("link", name="Sign up to accept").click()
    page.get_by_label("Username").fill(username)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("button", name=re.compile("^Accept")).click()
    expect(page.locator(".messages")).to_contain_text("You are now a")


def post_from(page: Page, text: str) -> None:
    page.locator("#compose-body").fill(text)
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.locator("#compose [role=status]")).to_have_text("Posted.")


def stream_texts(page: Page) -> list[str]:
    return page.locator("#stream article.post .post-text").all_inner_texts()


def test_a_whole_jam_in_the_browser(
    jamhost_server: LiveServer, browser: Any, screenshots: Path
) -> None:
    server = jamhost_server
    tag = "E2e" + secrets.token_hex(3)
    violations: list[dict[str, Any]] = []
    contexts = {who: new_context(browser) for who in ("host", "pat", "priya", "mo", "viewer")}
    host, pat, priya, mo, viewer = (contexts[w].new_page() for w in contexts)
    # The viewer reaches the server through a proxy whose connections can be cut.
    viewer_net = CuttableProxy(server.port)
    script_errors: list[str] = []
    for page in (host, pat, priya, mo, viewer):
        watch_errors(page, script_errors)
    try:
        # -- The host signs up, creates the jam, writes three questions, schedules it.
        host.goto(server.url + "/")
        # Other tests share the server, so the list may hold their jams; this one is new.
        expect(host.get_by_role("heading", name="Upcoming")).to_be_visible()
        expect(host.locator(".jam-card", has_text=tag)).to_have_count(0)
        shot(host, screenshots, "01-jam-list")
        violations += axe_check(host, "jam list")
        sign_up(host, server, "hana_host")
        host.get_by_role("link", name="New jam").click()
        host.get_by_label("Title").fill("Remote work, honestly")
        host.get_by_label("Hashtag").fill(tag)
        starts = datetime.now(UTC) + timedelta(hours=2)
        host.get_by_label("Starts at").fill(starts.strftime("%Y-%m-%dT%H:%M"))
        host.get_by_label("Duration (minutes)").fill("60")
        shot(host, screenshots, "02-new-jam")
        violations += axe_check(host, "new jam form")
        host.get_by_role("button", name="Create the jam").click()
        expect(host.locator(".messages")).to_contain_text("is saved as a draft")
        slug = host.url.rstrip("/").split("/")[-2]
        for offset, text in (
            (0, "What does a good remote day look like?"),
            (5, "Which tool saved you the most time?"),
            (10, "How do you keep meetings short?"),
        ):
            sheet = host.locator("#question-sheet")
            sheet.locator(".add-question textarea[name=text]").fill(text)
            sheet.locator(".add-question input[name=offset_minutes]").fill(str(offset))
            sheet.get_by_role("button", name="Add question").click()
            expect(host.locator("#question-sheet .run-sheet")).to_contain_text(text)
        expect(host.locator("#question-sheet .run-q")).to_have_count(3)
        links = []
        for role, note in (("panelist", "Pat"), ("panelist", "Priya"), ("moderator", "Mo")):
            people = host.locator("#people-sheet")
            people.get_by_label("Role").select_option(role)
            people.get_by_label(re.compile("Who is it for")).fill(note)
            people.get_by_role("button", name="Make an invite link").click()
            entry = host.locator("#people-sheet .invites li", has_text=f"for {note}")
            expect(entry).to_contain_text(role.title())
            links.append(entry.locator("input.invite-link").input_value())
        host.get_by_role("button", name="Schedule the jam").click()
        expect(host.locator(".messages")).to_contain_text("Scheduled")
        shot(host, screenshots, "03-host-manage")
        violations += axe_check(host, "host manage page")

        # -- Two panelists and a moderator accept their invites.
        accept_invite(pat, server, links[0], "pat_panelist")
        accept_invite(priya, server, links[1], "priya_panelist")
        accept_invite(mo, server, links[2], "max_moderator")
        shot(pat, screenshots, "04-jam-page-panelist")
        violations += axe_check(pat, "jam page")
        host.reload()
        for name in ("pat_panelist", "priya_panelist", "max_moderator"):
            expect(host.locator("#people-sheet .members")).to_contain_text(f"@{name}")

        # -- Everyone opens the room; the viewer has no account.
        room = f"{server.url}/jams/{slug}/live/"
        viewer_room = f"{viewer_net.url}/jams/{slug}/live/"
        viewer.goto(viewer_room)
        # Connected, but the jam is not live yet: the indicator does not say "live".
        expect(viewer.locator("#connection-status")).to_have_text("connected")
        expect(viewer.locator("#stream-empty")).to_be_visible()
        shot(viewer, screenshots, "05-room-before-start")
        violations += axe_check(viewer, "live room (scheduled, anonymous)")
        for page in (host, pat, priya):
            page.goto(room)
            expect(page.locator("#connection-status")).to_have_text("connected")
        mo.goto(f"{server.url}/jams/{slug}/console/")
        expect(mo.locator("#connection-status")).to_have_text("connected")

        # -- The host starts the jam and releases the first question; it reaches the
        #    viewer without a reload.
        # Releasing a question before its time and ending the jam ask first: the host
        # confirms each time here.
        host.on("dialog", lambda dialog: dialog.accept())
        host.get_by_role("button", name="Start now").click()
        expect(host.locator(".messages")).to_contain_text("The jam is live.")
        expect(viewer.locator("#connection-status")).to_have_text("live")
        host.get_by_role("button", name="Release next question").click()
        expect(viewer.locator("#jam-header .question-text")).to_have_text(
            "What does a good remote day look like?"
        )
        expect(viewer.locator("#stream article.kind-question")).to_have_count(1)
        expect(viewer.locator("#stream-empty")).to_have_count(0)
        # The compose box appears for people who can post once the room is live.
        pat.reload()
        priya.reload()
        expect(pat.locator("#compose")).to_be_visible()

        # -- A panelist's post reaches the viewer's and the moderator's screens.
        post_from(pat, "Deep work before lunch, calls after.")
        first = viewer.locator("#stream article.post", has_text="Deep work before lunch")
        expect(first).to_be_visible()
        expect(first.locator(".q-label")).to_have_text("A1")
        expect(first).to_contain_text(f"#{tag}")
        on_console = mo.locator("#stream article.post", has_text="Deep work before lunch")
        expect(on_console).to_be_visible()
        shot(viewer, screenshots, "06-room-viewer-live")
        shot(pat, screenshots, "07-room-panelist")
        violations += axe_check(viewer, "live room (live, anonymous)")
        violations += axe_check(pat, "live room (panelist)")

        # -- The moderator hides a post; it vanishes from the viewer's screen.
        post_from(priya, "Buy my course!!! limited offer")
        spam_on_viewer = viewer.locator("#stream article.post", has_text="Buy my course")
        expect(spam_on_viewer).to_be_visible()
        spam_on_console = mo.locator("#stream article.post", has_text="Buy my course")
        expect(spam_on_console).to_be_visible()
        shot(mo, screenshots, "08-console")
        violations += axe_check(mo, "moderation console")
        spam_on_console.get_by_role("button", name="Hide", exact=True).first.click()
        expect(spam_on_viewer).to_have_count(0)
        expect(spam_on_console).to_have_attribute("data-status", "hidden")

        # -- The viewer pauses: new posts wait behind "N new" until resumed.
        viewer.get_by_role("button", name="Pause").click()
        host.get_by_role("button", name="Release next question").click()
        post_from(priya, "A shared decision log.")
        expect(viewer.locator("#new-posts")).to_have_text("2 new")
        expect(viewer.locator("#stream")).not_to_contain_text("A shared decision log.")
        shot(viewer, screenshots, "09-room-paused")
        viewer.locator("#new-posts").click()
        expect(viewer.locator("#stream")).to_contain_text("A shared decision log.")
        expect(viewer.locator("#new-posts")).to_be_hidden()
        room_q2_colour = viewer.locator("#question-list .q-label.q-2").evaluate(
            "el => getComputedStyle(el).backgroundColor"
        )

        # -- The viewer's connection drops; what is posted meanwhile arrives, once, when
        #    it comes back, and the hidden post stays hidden.
        viewer_net.cut()
        expect(viewer.locator("#connection-status")).to_have_text(re.compile("reconnecting"))
        post_from(pat, "Written while the viewer was offline.")
        host.get_by_role("button", name="Release next question").click()
        shot(viewer, screenshots, "10-room-reconnecting")
        viewer_net.restore()
        expect(viewer.locator("#connection-status")).to_have_text("live", timeout=30_000)
        expect(viewer.locator("#stream")).to_contain_text("Written while the viewer was offline.")
        expect(viewer.locator("#jam-header .question-text")).to_have_text(
            "How do you keep meetings short?"
        )
        # Every question is out: "Release next question" goes, the other controls stay.
        expect(host.get_by_role("button", name="Release next question")).to_be_hidden()
        expect(host.get_by_role("button", name="End the jam")).to_be_visible()
        texts = stream_texts(viewer)
        assert len(texts) == len(set(texts)), texts
        assert not any("Buy my course" in t for t in texts)
        # The same stream as a fresh page load: nothing missing, nothing extra.
        fresh = contexts["viewer"].new_page()
        fresh.goto(viewer_room)
        assert stream_texts(fresh) == texts
        fresh.close()

        # -- The host ends the jam; it is archived, replayed and exported.
        host.reload()
        host.get_by_role("button", name="End the jam").click()
        expect(viewer.locator("#jam-header")).to_have_attribute(
            "data-status", re.compile("^(ended|archived)$")
        )
        shot(viewer, screenshots, "11-room-ended")
        viewer.goto(f"{viewer_net.url}/jams/{slug}/transcript/")
        expect(viewer.locator("#transcript")).to_contain_text("Deep work before lunch")
        expect(viewer.locator("#transcript")).not_to_contain_text("Buy my course")
        player = viewer.locator("#player")
        expect(player).to_be_visible()
        viewer.get_by_label("16×").check()
        viewer.get_by_role("button", name="Play").click()
        expect(viewer.locator("#replay-stream")).to_contain_text(
            "Deep work before lunch", timeout=30_000
        )
        shot(viewer, screenshots, "12-replay")
        # Question colours match between the live room and the replay.
        in_replay = viewer.locator("#transcript .q-label.q-2").first.evaluate(
            "el => getComputedStyle(el).backgroundColor"
        )
        assert in_replay == room_q2_colour, (in_replay, room_q2_colour)
        violations += axe_check(viewer, "replay")
        downloads = viewer.locator(".downloads a")
        expect(downloads).to_have_count(4)
        for link in downloads.all():
            href = link.get_attribute("href") or ""
            answer = contexts["viewer"].request.get(viewer_net.url + href)
            assert answer.ok, (href, answer.status)
            body = answer.text()
            assert "Deep work before lunch" in body, href
            assert "Buy my course" not in body, href
            if href.endswith(".json"):
                json.loads(body)
    finally:
        for context in contexts.values():
            context.close()
        viewer_net.close()
    assert not violations, json.dumps(violations, indent=1)
    assert not script_errors, script_errors
