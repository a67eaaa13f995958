"""live.js's guards in a real browser (Debian's Chromium, against a real server): a frame
that arrives late, carrying an older state of a post, never undoes a newer one — neither
a post hidden since (the removal guard) nor a post changed since (the rev guard).

The stale frames go in where htmx's websocket extension hands every frame to live.js
(`htmx:wsBeforeMessage`), as a frame delayed behind newer ones would arrive."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SETUP = """
import json
from tests.factories import UserFactory, live_jam
from jamhost.posts.services import post_compose
jam = live_jam(released=1, slug="guards-{run}", hashtag="Guards{run}")
post = post_compose(jam=jam, user=UserFactory(), body="First words")
print(json.dumps({{"post": post.pk}}))
"""

MODERATE = """
from jamhost.jams.models import Jam
from jamhost.posts import post_moderation
jam = Jam.objects.get(slug="guards-{run}")
post_moderation.post_{action}(jam=jam, actor=jam.host, post_id={post})
"""

DELIVER = """(message) => document.body.dispatchEvent(new CustomEvent("htmx:wsBeforeMessage",
    {detail: {message: message}, bubbles: true, cancelable: true}))"""


def shell(server: LiveServer, code: str) -> Any:
    out = server.manage("shell", "-c", code).strip().splitlines()
    return json.loads(out[-1]) if out and out[-1].startswith("{") else None


def deliver(page: Page, message: str) -> None:
    page.evaluate(DELIVER, message)


def test_a_stale_frame_never_undoes_a_newer_state(jamhost_server: LiveServer, browser: Any) -> None:
    server = jamhost_server
    run = secrets.token_hex(3)
    ids = shell(server, SETUP.format(run=run))
    context = new_context(browser)
    viewer = context.new_page()
    problems: list[str] = []
    watch_errors(viewer, problems)
    try:
        viewer.goto(f"{server.url}/jams/guards-{run}/live/")
        expect(viewer.locator("#connection-status")).to_have_text("live")
        post = viewer.locator(f"#post-{ids['post']}")
        expect(post).to_contain_text("First words")
        stale = post.evaluate("el => el.outerHTML")
        stale_rev = int(post.get_attribute("data-rev") or "0")

        # Removal guard: the post is hidden; its older fragment, arriving late, is ignored.
        shell(server, MODERATE.format(run=run, action="hide", post=ids["post"]))
        expect(post).to_have_count(0)
        deliver(viewer, stale)
        viewer.wait_for_timeout(300)
        expect(post).to_have_count(0)

        # Rev guard: restored (a newer rev), then the old fragment with other words comes
        # in late: the newer state stays.
        shell(server, MODERATE.format(run=run, action="restore", post=ids["post"]))
        expect(post).to_contain_text("First words")
        current_rev = int(post.get_attribute("data-rev") or "0")
        assert current_rev > stale_rev
        deliver(viewer, stale.replace("First words", "Stale words"))
        viewer.wait_for_timeout(300)
        expect(post).to_contain_text("First words")
        expect(viewer.get_by_text("Stale words")).to_have_count(0)
        assert int(post.get_attribute("data-rev") or "0") == current_rev

        # A newer frame for the same post is applied (the guards hold back only the old).
        newer = stale.replace("First words", "Newer words").replace(
            f'data-rev="{stale_rev}"', f'data-rev="{current_rev + 1000}"'
        )
        deliver(viewer, newer)
        expect(post).to_contain_text("Newer words")
        assert not problems, problems
    finally:
        context.close()
