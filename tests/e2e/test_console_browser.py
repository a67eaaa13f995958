"""The console in a real browser (Debian's Chromium through Playwright, against a real
server): filtered views that keep up with live posts, keyboard moderation that reaches a
viewer's screen, the help dialog, pause with "N new", and the big screen updating live.

It uses tests/e2e's session-wide browser: importing that fixture into a module would make
a second, module-level fixture, and a second sync Playwright cannot start while the
first one's loop runs."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, axe_check, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's

SETUP = """
import json
from jamhost.jams.models import Role
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam
jam = live_jam(released=1, slug="console-{run}", hashtag="Console{run}")
host = jam.host
host.username = "host_{run}"; host.save()
mod = MembershipFactory(jam=jam, role=Role.MODERATOR, user=UserFactory(username="mod_{run}")).user
pan = MembershipFactory(jam=jam, role=Role.PANELIST, user=UserFactory(username="pan_{run}")).user
guest = UserFactory(username="guest_{run}")
answer = post_compose(jam=jam, user=pan, body="Panel answer one")
question = post_compose(jam=jam, user=guest, body="How do you start?")
chatter = post_compose(jam=jam, user=guest, body="Just chatting")
later = post_compose(jam=jam, user=guest, body="Why now?")
print(json.dumps({{
    "answer": answer.pk, "question": question.pk, "chatter": chatter.pk, "later": later.pk
}}))
"""

COMPOSE = """
import json
from django.contrib.auth import get_user_model
from jamhost.jams.models import Jam
from jamhost.posts.services import post_compose
jam = Jam.objects.get(slug="console-{run}")
user = get_user_model().objects.get(username="{user}_{run}")
print(json.dumps({{"id": post_compose(jam=jam, user=user, body={body!r}).pk}}))
"""

PRE_MODERATION = """
from jamhost.jams.models import Jam
from jamhost.posts.jam_rules import jam_switch_moderation_mode
jam = Jam.objects.get(slug="console-{run}")
jam_switch_moderation_mode(jam=jam, actor=jam.host, mode="pre")
"""


def shell(server: LiveServer, code: str) -> Any:
    out = server.manage("shell", "-c", code).strip().splitlines()
    return json.loads(out[-1]) if out and out[-1].startswith("{") else None


def log_in(page: Page, server: LiveServer, username: str, next_url: str) -> None:
    page.goto(f"{server.url}/accounts/login/?next={next_url}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(next_url)))


def test_console_in_the_browser(
    jamhost_server: LiveServer, browser: Any, screenshots: Path
) -> None:
    server = jamhost_server
    run = secrets.token_hex(3)
    ids = shell(server, SETUP.format(run=run))
    console_path = f"/jams/console-{run}/console/"
    mod_context, viewer_context = new_context(browser), new_context(browser)
    console, viewer, screen = (
        mod_context.new_page(),
        viewer_context.new_page(),
        viewer_context.new_page(),
    )
    problems: list[str] = []
    for page in (console, viewer, screen):
        watch_errors(page, problems)
    try:
        log_in(console, server, f"mod_{run}", console_path)
        expect(console.locator("#connection-status")).to_have_text("live")
        viewer.goto(f"{server.url}/jams/console-{run}/live/")
        expect(viewer.locator("#connection-status")).to_have_text("live")
        screen.goto(f"{server.url}/jams/console-{run}/screen/")
        expect(screen.locator("#connection-status")).to_have_text("live")
        violations = axe_check(console, "console")
        assert not violations, json.dumps(violations, indent=1)

        # Filtered views, switched without a reload.
        assert not problems, problems
        console.get_by_role("button", name="Audience questions").click()
        expect(console.locator(f"#post-{ids['question']}")).to_be_visible()
        expect(console.locator(f"#post-{ids['chatter']}")).to_be_hidden()
        assert "view=questions" in console.url
        console.get_by_role("button", name="Panelists").click()
        expect(console.locator(f"#post-{ids['answer']}")).to_be_visible()
        expect(console.locator(f"#post-{ids['question']}")).to_be_hidden()
        console.locator("#view-question").select_option("1")
        expect(console.locator(f"#post-{ids['answer']}")).to_be_visible()
        console.locator("#view-question").select_option("")

        # The pending view keeps up with live posts: pre-moderation, then a new post.
        console.get_by_role("button", name=re.compile("^Pending")).click()
        shell(server, PRE_MODERATION.format(run=run))
        held = shell(server, COMPOSE.format(run=run, user="guest", body="Please approve me"))
        expect(console.locator(f"#post-{held['id']}")).to_be_visible()
        expect(console.locator(f"#post-{ids['answer']}")).to_be_hidden()
        expect(viewer.get_by_text("Please approve me")).to_have_count(0)

        # Keyboard: j selects the pending post, a approves it; the viewer sees it.
        console.locator("body").press("j")
        expect(console.locator(f"#post-{held['id']}")).to_have_class(re.compile("selected"))
        console.locator("body").press("a")
        expect(viewer.get_by_text("Please approve me")).to_be_visible()
        expect(console.locator(f"#post-{held['id']}")).to_be_hidden()  # no longer pending

        # Back to everything: a click selects a post, h hides it for viewers.
        console.get_by_role("button", name="All", exact=True).click()
        console.locator(f"#post-{ids['chatter']} .post-text").click()
        expect(console.locator(f"#post-{ids['chatter']}")).to_have_class(re.compile("selected"))
        console.locator("body").press("h")
        expect(console.locator(f"#post-{ids['chatter']}")).to_have_attribute(
            "data-status", "hidden"
        )
        expect(viewer.get_by_text("Just chatting")).to_have_count(0)
        expect(console.locator(".audit-entry").first).to_contain_text("hid")

        # k moves up from there; f features the panelist's answer and the big screen
        # shows it, live.
        expect(screen.get_by_text("Panel answer one")).to_be_hidden()
        for _ in range(5):
            if console.locator(f"#post-{ids['answer']}.selected").count():
                break
            console.locator("body").press("k")
        expect(console.locator(f"#post-{ids['answer']}")).to_have_class(re.compile("selected"))
        console.locator("body").press("f")
        expect(screen.get_by_text("Panel answer one")).to_be_visible()

        # Pinned & featured: only the featured answer.
        console.get_by_role("button", name="Pinned & featured").click()
        expect(console.locator(f"#post-{ids['answer']}")).to_be_visible()
        expect(console.locator(f"#post-{ids['question']}")).to_be_hidden()

        # Audience questions, unanswered first: u marks the first one answered and it
        # moves below the later, unanswered one.
        console.get_by_role("button", name="Audience questions").click()
        first, later = (console.locator(f"#post-{ids[k]}") for k in ("question", "later"))
        expect(later).to_be_visible()
        first.locator(".post-text").click()
        console.locator("body").press("u")
        expect(first).to_have_attribute("data-answered", "true")
        expect(console.locator(f"#post-{ids['question']} .badge.answered-yes")).to_be_visible()
        console.wait_for_function(
            "([a, b]) => document.getElementById(a).getBoundingClientRect().top"
            " < document.getElementById(b).getBoundingClientRect().top",
            arg=[f"post-{ids['later']}", f"post-{ids['question']}"],
        )

        # By author, from the people panel.
        console.get_by_role("button", name="All", exact=True).click()
        console.locator(".console-people").get_by_role("button", name=f"@pan_{run}").click()
        expect(console.locator(f"#post-{ids['answer']}")).to_be_visible()
        expect(console.locator(f"#post-{ids['chatter']}")).to_be_hidden()
        expect(console.locator("#view-author")).to_contain_text(f"@pan_{run}")
        console.get_by_role("button", name="Show every author").click()
        expect(console.locator(f"#post-{ids['chatter']}")).to_be_visible()

        console.screenshot(path=str(screenshots / "console-main.png"), full_page=True)
        screen.bring_to_front()
        screen.screenshot(path=str(screenshots / "console-big-screen.png"))
        console.bring_to_front()

        # ? opens the help dialog; Escape closes it.
        console.locator("body").press("?")
        expect(console.get_by_role("dialog", name="Keyboard")).to_be_visible()
        console.screenshot(path=str(screenshots / "console-help.png"))
        console.keyboard.press("Escape")
        expect(console.get_by_role("dialog", name="Keyboard")).to_be_hidden()

        # Pause on the console holds new posts behind "N new".
        console.get_by_role("button", name="Pause").click()
        late = shell(server, COMPOSE.format(run=run, user="pan", body="Late panel answer"))
        expect(console.locator("#new-posts")).to_have_text("1 new")
        expect(console.locator(f"#post-{late['id']}")).to_have_count(0)
        console.locator("#new-posts").click()
        expect(console.locator(f"#post-{late['id']}")).to_be_visible()
        assert not problems, problems
    finally:
        mod_context.close()
        viewer_context.close()
