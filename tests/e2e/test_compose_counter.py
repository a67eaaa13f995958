"""The compose box counts in the browser, in a jam on X as X counts (X's twitter-text,
vendored under static/), with no request per keystroke; the server's count still decides
when posting, and the prefix follows the current question as it is released. The text it
shows is the one the server builds (the same hashtag and answer-prefix rules, on X's
reference cases), and it warns before a text already sent to X goes again. In a jam
without X, the counters show the networks the post goes to and mark the limit that binds."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from jamhost.jams.answers import FORMS
from jamhost.networks.x.rules import weighted_length, x_rule
from jamhost.posts.compose import compose_text
from tests.conformance import conformance_cases, present
from tests.e2e.conftest import ROOT, LiveServer, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SETUP = """
import json
from tests.factories import MembershipFactory, UserFactory, live_jam
jam = live_jam(questions=2, released=1, slug="count-" + TAG, hashtag="Count" + TAG)
panelist = UserFactory(username="counter_" + TAG)
MembershipFactory(jam=jam, user=panelist)
from jamhost.posts.services import post_compose
sent = post_compose(jam=jam, user=panelist, body="Sent to X already", question_number=None)
from jamhost.networks.post_state import post_network_set
# As publishing leaves it:
post_network_set(sent.pk, x={"status": "published", "x_id": "1790000000000000007"})
print(json.dumps({"slug": jam.slug, "hashtag": jam.hashtag, "user": panelist.username}))
"""
RELEASE = """
from jamhost.jams import run_sheet
from jamhost.jams.models import Jam
run_sheet.question_release_next(jam=Jam.objects.get(slug="count-" + TAG))
"""
TEXTS = [
    "Deep work first",
    "日本語のテキスト and emoji 😀👩‍👩‍👧‍👦",
    "See https://example.com/a/very/long/path/that/goes/on and www.example.org",
    "a3: my own prefix, keeps it #COUNT",
    "é and line\nbreaks",
]


@pytest.fixture(scope="module")
def x_offered(jamhost_server: LiveServer) -> Iterator[LiveServer]:
    """The suite's server's database and settings with X offered (X_CLIENT_ID set), so its
    jams run on X and X's limit applies. No X is called: nobody here links an X account,
    and X's search ingest is off (X_INGEST=stream, with no stream process)."""
    env = dict(
        jamhost_server.env,
        X_CLIENT_ID="e2e-client",
        X_INGEST="stream",
        X_API_BASE_URL="http://127.0.0.1:9",
    )
    server = LiveServer(env=env, log_path=ROOT / "artifacts" / "e2e-x-offered.log")
    server.log_path.write_bytes(b"")
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _shell(server: LiveServer, code: str, tag: str) -> str:
    return server.manage("shell", "-c", f"TAG = {tag!r}\n" + code)


def test_the_counter_counts_as_x_in_the_browser(x_offered: LiveServer, browser: Any) -> None:
    jamhost_server = x_offered
    tag = secrets.token_hex(3)
    jam = json.loads(_shell(jamhost_server, SETUP, tag).strip().splitlines()[-1])
    context = new_context(browser)
    page = context.new_page()
    problems: list[str] = []
    watch_errors(page, problems)
    previews: list[str] = []
    page.on("request", lambda r: previews.append(r.url) if "/live/preview/" in r.url else None)
    try:
        page.goto(jamhost_server.url + "/accounts/login/")
        page.get_by_label("Username").fill(jam["user"])
        page.get_by_label("Password").fill("correct-horse-battery")
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{jamhost_server.url}/jams/{jam['slug']}/live/")
        expect(page.locator("#connection-status")).to_have_attribute("data-state", "live")
        box = page.locator("#compose-body")
        count = page.locator("#compose-count .count")
        for body in TEXTS:
            box.fill("")
            box.press_sequentially(body, delay=5)
            composed = compose_text(
                body=body,
                hashtag=jam["hashtag"],
                question_number=1,
                rules=[x_rule(jam["hashtag"])],
            )
            expect(count).to_have_text(f"{weighted_length(composed.text)} / 280")
            expect(page.locator("#compose-count .preview")).to_contain_text(composed.text)
        # Over the limit: the browser says by how much; the server refuses with its count.
        box.fill("x" * 290)
        expect(count).to_have_text(re.compile(r"^30\d / 280 — \d+ over$"))
        expect(page.locator("#compose-count")).to_have_class(re.compile(r"\bover\b"))
        page.get_by_role("button", name="Post", exact=True).click()
        expect(page.locator("#compose-error")).to_contain_text("over the limit of 280")
        # A new question is released: "auto" now prefixes A2 for a panelist.
        _shell(jamhost_server, RELEASE, tag)
        expect(page.locator('#question-list li[aria-current="true"]')).to_have_attribute(
            "data-number", "2", timeout=20_000
        )
        box.fill("")
        box.press_sequentially("Second answer")
        expect(page.locator("#compose-count .preview")).to_contain_text("A2: Second answer")
        page.get_by_role("button", name="Post", exact=True).click()
        expect(page.locator("#compose [role=status]")).to_have_text("Posted.")
        expect(page.locator("#stream .post-text", has_text="A2: Second answer")).to_have_count(1)
        # A text this account already sent to X: the box warns before it goes again.
        box.fill("")
        page.get_by_label("Answering").select_option("none")
        box.press_sequentially("Sent to X already")
        identical = page.locator("#compose-count .compose-identical")
        expect(identical).to_contain_text("X refuses the same text twice")
        box.press_sequentially("!")
        expect(identical).to_have_count(0)
        assert previews == []  # not one request per keystroke (nor any)
        assert problems == [], problems
    finally:
        context.close()


def _bodies() -> list[str]:
    cases = conformance_cases("extract.yml", "hashtags")
    extract = [present(case.values[0])["text"] for case in cases]
    return [
        *extract,
        *(form.replace("…", "my answer") for form in FORMS),
        "A 3 no mark is no prefix",
        "a3text",
        "A1234: too many digits",
        " \x1c A3: Python's whitespace\x85",
        "A٣: another script's digit",
        "#CAFE\u0301 decomposed",
        "#straße and #STRASSE",
        "dotless ı #I",
        "line\r\nbreak",
        "http://x.com/#tag in a URL",
    ]


def test_the_browser_builds_the_text_the_server_builds(
    jamhost_server: LiveServer, browser: Any
) -> None:
    """static/js/compose-count.js against jamhost.posts.compose.compose_text: X's own
    hashtag cases and the answer-prefix forms, with tags in several scripts and cases."""
    tag = secrets.token_hex(3)
    jam = json.loads(_shell(jamhost_server, SETUP, tag).strip().splitlines()[-1])
    cases = [
        [body, hashtag, number]
        for body in _bodies()
        for hashtag in ("hashtag", "Café", "Strasse", "i", "日本語", jam["hashtag"])
        for number in (None, 3)
    ]
    context = new_context(browser)
    page = context.new_page()
    try:
        page.goto(jamhost_server.url + "/accounts/login/")
        page.get_by_label("Username").fill(jam["user"])
        page.get_by_label("Password").fill("correct-horse-battery")
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{jamhost_server.url}/jams/{jam['slug']}/live/")
        page.wait_for_function("window.jamhostCompose !== undefined")
        built = page.evaluate(
            "cases => cases.map(([b, t, n]) => window.jamhostCompose.composeText(b, t, n))",
            cases,
        )
        wanted = [compose_text(body=b, hashtag=t, question_number=n).text for b, t, n in cases]
        differ = [(c, w, b) for c, w, b in zip(cases, wanted, built, strict=True) if w != b]
        assert differ == [], differ[:5]
    finally:
        context.close()


BINDING_SETUP = """
import json
from jamhost.networks.models import JamNetwork, MastodonApp, Network
from tests.factories import MembershipFactory, UserFactory, live_jam
from tests.networks.jam_routes import linked, route
INSTANCE = "https://binds.example"  # an instance of its own: other tests read theirs
jam = live_jam(questions=2, released=1, slug="binds-" + TAG, hashtag="Binds" + TAG)
JamNetwork.objects.create(jam=jam, network=Network.X, enabled=False)
route(jam, Network.BLUESKY)
route(jam, Network.MASTODON, service=INSTANCE)
MastodonApp.objects.get_or_create(
    service=INSTANCE,
    defaults={"client_id": "c", "client_secret": "s", "redirect_uri": INSTANCE,
              "max_characters": 100},
)
panelist = UserFactory(username="binds_" + TAG)
MembershipFactory(jam=jam, user=panelist)
linked(panelist, Network.BLUESKY)
linked(panelist, Network.MASTODON, service=INSTANCE)  # posts from the jam's instance
print(json.dumps({"slug": jam.slug, "hashtag": jam.hashtag, "user": panelist.username}))
"""


def test_without_x_the_counter_marks_the_network_that_binds(
    jamhost_server: LiveServer, browser: Any
) -> None:
    tag = secrets.token_hex(3)
    jam = json.loads(_shell(jamhost_server, BINDING_SETUP, tag).strip().splitlines()[-1])
    context = new_context(browser)
    page = context.new_page()
    problems: list[str] = []
    watch_errors(page, problems)
    try:
        page.goto(jamhost_server.url + "/accounts/login/")
        page.get_by_label("Username").fill(jam["user"])
        page.get_by_label("Password").fill("correct-horse-battery")
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{jamhost_server.url}/jams/{jam['slug']}/live/")
        counters = page.locator("#compose-networks li")
        expect(counters).to_have_count(2)  # Bluesky and the instance; X is off
        expect(page.locator("#compose-networks li[data-network=x]")).to_have_count(0)
        box = page.locator("#compose-body")
        count = page.locator("#compose-count .count")
        binding = page.locator("#compose-networks li.binding")
        # A short text: the instance's 100 characters leave the least room.
        box.press_sequentially("Hello")
        suffix = len(f"A1: Hello #{jam['hashtag']}")
        expect(count).to_have_text(f"{suffix} / 100")
        expect(binding).to_have_attribute("data-network", "mastodon")
        expect(binding.locator(".net-count")).to_contain_text("the limit that binds")
        # A long link: 23 on the instance, every character on Bluesky, which now binds.
        link = "https://example.com/" + "p" * 270
        box.fill(f"See {link}")
        length = len(f"A1: See {link} #{jam['hashtag']}")
        expect(binding).to_have_attribute("data-network", "bluesky")
        expect(count).to_have_text(f"{length} / 300 — {length - 300} over")
        note = page.locator("#compose-networks .net-too-long")
        # Within the instance's limit still: it would go there only (not posted here: the
        # instance is not a real one).
        expect(note).to_have_text(
            f"Too long for Bluesky: it goes to the other networks only. "
            f"Shorten it by {length - 300} to reach every one."
        )
        # Over both limits: it could go nowhere, and the server refuses it, naming the
        # network with the most room.
        box.fill("y" * 400)
        over_all = len(f"A1: {'y' * 400} #{jam['hashtag']}")
        expect(note).to_have_text(
            f"Too long for every network: shorten it by {over_all - 300} to post it."
        )
        page.get_by_role("button", name="Post", exact=True).click()
        expect(page.locator("#compose-error")).to_contain_text(
            f"Your post is {over_all} graphemes as Bluesky counts them, over its limit of 300."
        )
        # Within every limit: nothing over, no note (not posted: no network is called).
        box.fill("Short enough")
        expect(binding).to_have_attribute("data-network", "mastodon")
        expect(page.locator("#compose-count")).not_to_have_class(re.compile(r"\bover\b"))
        expect(note).to_be_hidden()
        assert problems == [], problems
    finally:
        context.close()
