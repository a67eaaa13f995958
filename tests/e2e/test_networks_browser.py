"""A jam on three networks, in the browser: the host puts it on Bluesky and a Mastodon
instance from the edit page (bad input answered on the page), and the compose box counts
the post for each network it goes to and says which limit binds; a post too long for
Bluesky still goes to the instance (X is not offered on this server)."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SETUP = """
import json
from tests.factories import UserFactory, live_jam
from tests.networks.jam_routes import linked
from jamhost.networks.models import MastodonApp
jam = live_jam(questions=2, released=1, slug="nets-" + TAG, hashtag="Nets" + TAG)
sky = linked(jam.host, "bluesky")
linked(jam.host, "mastodon", service="https://mastodon.example")
MastodonApp.objects.get_or_create(
    service="https://mastodon.example",
    defaults=dict(client_id="c", client_secret="s", redirect_uri="https://j.example/",
                  max_characters=320),
)
print(json.dumps({"slug": jam.slug, "hashtag": jam.hashtag, "host": jam.host.username,
                  "sky": sky.pk}))
"""


def _log_in(page: Any, server: LiveServer, username: str) -> None:
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()


def test_host_puts_the_jam_on_three_networks_and_the_box_counts_each(
    jamhost_server: LiveServer, browser: Any
) -> None:
    tag = secrets.token_hex(3)
    out = jamhost_server.manage("shell", "-c", f"TAG = {tag!r}\n" + SETUP)
    jam = json.loads(out.strip().splitlines()[-1])
    context = new_context(browser)
    page = context.new_page()
    problems: list[str] = []
    watch_errors(page, problems)
    try:
        _log_in(page, jamhost_server, jam["host"])
        page.goto(f"{jamhost_server.url}/jams/{jam['slug']}/edit/")
        section = page.locator("#networks")
        bluesky = section.locator("fieldset[data-network=bluesky]")
        bluesky.get_by_label("Run on Bluesky").check()
        bluesky.get_by_label("Hashtag on Bluesky").fill("Sky" + tag)
        bluesky.get_by_label("Account that posts the questions").select_option(str(jam["sky"]))
        instance = section.locator(".mastodon-route").first
        # Plain http to a public host is refused with the reason, the input kept.
        instance.get_by_label("Instance").fill("http://mastodon.example")
        section.get_by_role("button", name="Save the networks").click()
        expect(page.locator("#networks [role=alert]")).to_contain_text(
            "Use https:// for mastodon.example"
        )
        expect(page.locator("#networks input[name=bluesky_hashtag]")).to_have_value("Sky" + tag)
        instance = page.locator("#networks .mastodon-route").first
        instance.get_by_label("Instance").fill("https://mastodon.example")
        page.get_by_role("button", name="Save the networks").click()
        expect(page.get_by_text("Networks saved.")).to_be_visible()
        # No account picked for the instance: the page says so.
        expect(page.locator("#networks .net-no-poster")).to_contain_text(
            "the questions will not be posted on https://mastodon.example"
        )

        page.goto(f"{jamhost_server.url}/jams/{jam['slug']}/live/")
        counters = page.locator("#compose-networks li")
        expect(counters).to_have_count(2)  # X is not offered on this server
        box = page.locator("#compose-body")
        box.press_sequentially("Hello 👩‍👩‍👧 https://example.com/a/long/path/" + "p" * 60)
        sky_count = page.locator("#compose-networks li[data-network=bluesky] .net-count")
        masto_count = page.locator("#compose-networks li[data-network=mastodon] .net-count")
        # Bluesky counts every grapheme, the instance the link as 23.
        expect(sky_count).to_have_text(re.compile(r"^\d+ / 300"))
        expect(masto_count).to_have_text(re.compile(r"^\d+ / 320"))
        sky_n = int(sky_count.inner_text().split(" /")[0])
        masto_n = int(masto_count.inner_text().split(" /")[0])
        body = "Hello 👩‍👩‍👧 https://example.com/a/long/path/" + "p" * 60
        sky_text = f"A1: {body} #Sky{tag}"
        masto_text = f"A1: Hello 👩‍👩‍👧 {'x' * 23} #{jam['hashtag']}"
        assert sky_n == len(sky_text) - 4  # the family emoji: 5 code points, 1 grapheme
        assert masto_n == len(masto_text) - 4
        expect(page.locator("#compose-networks .binding")).to_have_attribute(
            "data-network", "bluesky"
        )
        expect(page.locator("#compose-networks .binding .net-count")).to_contain_text(
            "the limit that binds"
        )
        # Too long for Bluesky (every character of the link counts there), not for the
        # instance (a link counts 23): it goes to the instance only, and the post is sent.
        box.fill("See https://example.com/" + "p" * 290)
        note = page.locator("#compose-networks .net-too-long")
        expect(note).to_be_visible()
        expect(note).to_have_text(
            re.compile(
                r"^Too long for Bluesky: it goes to the other networks only\. "
                r"Shorten it by \d+ to reach every one\.$"
            )
        )
        expect(page.locator("#compose-count .count")).to_contain_text("/ 300 — ")
        page.get_by_role("button", name="Post", exact=True).click()
        expect(page.locator("#compose p.ok[role=status]")).to_have_text("Posted.")
        assert problems == [], problems
    finally:
        context.close()


ROOM_SETUP = """
import json
from jamhost.posts.models import Post
from jamhost.posts.services import post_insert
from tests.factories import live_jam
jam = live_jam(slug="badges-" + TAG, hashtag="Badges" + TAG)
post = post_insert(
    jam=jam, author_key="bluesky:did:plc:al", author_handle="alice.bsky.social",
    author_role="participant", body="From the sky", text="From the sky #" + jam.hashtag,
    source="bluesky", external_id="at://did:plc:al/app.bsky.feed.post/1",
)
Post.objects.filter(pk=post.pk).update(
    remote_url="https://bsky.app/profile/alice.bsky.social/post/1",
    author_url="https://bsky.app/profile/alice.bsky.social",
)
print(json.dumps({"slug": jam.slug}))
"""


def test_room_shows_where_a_post_came_from(jamhost_server: LiveServer, browser: Any) -> None:
    tag = secrets.token_hex(3)
    out = jamhost_server.manage("shell", "-c", f"TAG = {tag!r}\n" + ROOM_SETUP)
    jam = json.loads(out.strip().splitlines()[-1])
    context = new_context(browser)
    page = context.new_page()
    problems: list[str] = []
    watch_errors(page, problems)
    try:
        page.goto(f"{jamhost_server.url}/jams/{jam['slug']}/live/")
        post = page.locator("#stream .post", has_text="From the sky")
        expect(post.locator(".net-badge.net-bluesky")).to_be_visible()
        expect(post.get_by_role("link", name="From Bluesky")).to_have_attribute(
            "href", "https://bsky.app/profile/alice.bsky.social/post/1"
        )
        expect(post.get_by_role("link", name="@alice.bsky.social")).to_have_attribute(
            "href", "https://bsky.app/profile/alice.bsky.social"
        )
        assert problems == [], problems
    finally:
        context.close()
