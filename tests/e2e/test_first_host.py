"""A first-time host's jam without friction, in real browsers: one test per point. The
host, a panelist, a moderator, a participant and an anonymous viewer each have a browser
of their own; screenshots (phone and desktop) go to artifacts/screenshots/host-*.png.

The people and jams are made through the services (tests/e2e/first_host_data.py) so each
test starts at the moment it is about; everything after that goes through the browser.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import CuttableProxy, LiveServer, axe_check, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def data(jamhost_server: LiveServer) -> dict[str, Any]:
    prefix = "fh" + secrets.token_hex(3)
    out = jamhost_server.manage(
        "shell", "-c", f"from tests.e2e.first_host_data import main; main({prefix!r})"
    )
    line = next(x for x in out.splitlines() if x.startswith("FIRST-HOST-DATA "))
    return json.loads(line.split(" ", 1)[1])


class People:
    """Browsers for one test: each person their own context, closed at the end; script
    errors and CSP refusals on any of their pages fail the test. A person logs in through
    the log-in page once per module; later browsers of theirs start with that session
    (log-in is rate-limited per username)."""

    def __init__(
        self, browser: Any, server: LiveServer, data: dict[str, Any], sessions: dict[str, Any]
    ) -> None:
        self.browser, self.server, self.data, self.sessions = browser, server, data, sessions
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def page(self, *, phone: bool = False, zone: str = "") -> Page:
        """A new person: a phone (390x844) or a laptop, in UTC or the time zone given."""
        if zone:
            context = self.browser.new_context(
                viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900},
                timezone_id=zone,
                locale="en-GB",
                reduced_motion="reduce",
                is_mobile=phone,
                has_touch=phone,
            )
            context.set_default_timeout(15_000)
        else:
            context = new_context(self.browser, phone=phone)
        self.contexts.append(context)
        page = context.new_page()
        watch_errors(page, self.errors)
        return page

    def log_in(self, page: Page, who: str, next_url: str, base: str = "") -> None:
        username = self.data["users"][who]
        base = base or self.server.url
        if who in self.sessions:
            page.context.add_cookies(self.sessions[who])
            page.goto(base + next_url)
        else:
            page.goto(f"{base}/accounts/login/?next={next_url}")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(self.data["password"])
            page.locator("#main").get_by_role("button", name="Log in").click()
        expect(page.locator(".site-header .who")).to_have_text(f"@{username}")
        self.sessions.setdefault(who, page.context.cookies())

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def sessions() -> dict[str, Any]:
    return {}


@pytest.fixture
def people(
    browser: Any, jamhost_server: LiveServer, data: dict[str, Any], sessions: dict[str, Any]
) -> Iterator[People]:
    crowd = People(browser, jamhost_server, data, sessions)
    try:
        yield crowd
    finally:
        crowd.close()
    assert not crowd.errors, crowd.errors


def shot(page: Page, screenshots: Path, name: str, *, full: bool = False) -> None:
    page.screenshot(path=str(screenshots / f"host-{name}.png"), full_page=full)


def room(slug: str) -> str:
    return f"/jams/{slug}/live/"


# 1 ---------------------------------------------------------------------------------------


def test_links_follow_the_address_the_server_is_reached_at(
    jamhost_server: LiveServer, people: People, data: dict[str, Any], screenshots: Path
) -> None:
    """SITE_URL is unset (as after a fresh clone): every link uses the address and port
    the page was opened at, here the server's own port and, for a second person, the
    port of a proxy in front of it."""
    server = jamhost_server
    upcoming = data["upcoming"]["slug"]
    host = people.page()
    people.log_in(host, "host", f"/jams/{upcoming}/edit/")
    sheet = host.locator("#people-sheet")
    sheet.get_by_label("Role").select_option("moderator")
    sheet.get_by_role("button", name="Make an invite link").click()
    link = sheet.locator("p.ok input.invite-link").input_value()
    assert link.startswith(f"{server.url}/invites/"), link
    shot(host, screenshots, "01-invite-link")
    # The link reaches the server: someone else opens it and sees the invite.
    friend = people.page(phone=True)
    friend.goto(link)
    expect(friend.get_by_role("heading", level=1)).to_contain_text("as moderator")

    proxy = CuttableProxy(server.port)
    try:
        other = people.page()
        other.goto(f"{proxy.url}/jams/{data['compose']}/screen/")
        join = f"{proxy.url}/jams/{data['compose']}/live/"
        expect(other.locator(".screen-join figcaption a")).to_have_attribute("href", join)
        expect(other.locator(".screen-join .qr")).to_have_attribute(
            "aria-label", f"QR code for {join}"
        )
        shot(other, screenshots, "01-big-screen-join")
        ics = other.context.request.get(f"{proxy.url}/jams/{upcoming}/calendar.ics").text()
        assert f"URL:{proxy.url}/jams/{upcoming}/" in ics.replace("\r\n ", ""), ics
        feed = other.context.request.get(f"{proxy.url}/feeds/upcoming.atom").text()
        assert f'href="{proxy.url}/feeds/upcoming.atom"' in feed
        assert f"{proxy.url}/jams/{upcoming}/" in feed
        assert "127.0.0.1:8000" not in ics + feed
    finally:
        proxy.close()


# 2 ---------------------------------------------------------------------------------------


def test_a_question_added_live_gets_its_countdown(
    people: People, data: dict[str, Any], screenshots: Path
) -> None:
    slug = data["all_out"]
    viewer = people.page(phone=True)
    viewer.goto(people.server.url + room(slug))
    expect(viewer.locator("#connection-status")).to_have_text("live")
    timers = viewer.locator("#jam-header .timers")
    expect(timers).to_contain_text("Ends in")
    expect(timers).not_to_contain_text("Next question")

    host = people.page()
    people.log_in(host, "host", f"/jams/{slug}/edit/")
    sheet = host.locator("#question-sheet")
    sheet.locator(".add-question textarea[name=text]").fill("One more, added while live?")
    sheet.locator(".add-question input[name=offset_minutes]").fill("50")
    sheet.get_by_role("button", name="Add question").click()
    expect(sheet.locator(".run-sheet")).to_contain_text("One more, added while live?")

    # The open page counts down without a reload (due ~49 minutes from now)...
    countdown = timers.locator("div", has_text="Next question").locator("dd")
    expect(countdown).to_have_text(re.compile(r"^4[6-9]:\d\d$"))
    shot(viewer, screenshots, "02-countdown-phone")
    # ...and so does a fresh load.
    fresh = people.page()
    fresh.goto(people.server.url + room(slug))
    expect(
        fresh.locator("#jam-header .timers div", has_text="Next question").locator("dd")
    ).to_have_text(re.compile(r"^4[6-9]:\d\d$"))
    shot(fresh, screenshots, "02-countdown-desktop")


# 3 ---------------------------------------------------------------------------------------


def test_posting_never_fails_silently(
    jamhost_server: LiveServer, people: People, data: dict[str, Any], screenshots: Path
) -> None:
    slug = data["compose"]
    proxy = CuttableProxy(jamhost_server.port)
    try:
        viewer = people.page()
        viewer.goto(jamhost_server.url + room(slug))
        panelist = people.page(phone=True)
        people.log_in(panelist, "panelist", room(slug), base=proxy.url)
        expect(panelist.locator("#connection-status")).to_have_text("live")
        box = panelist.locator("#compose-body")
        status = panelist.locator("#compose-status")
        count = panelist.locator("#compose-count .count")
        tag = panelist.locator("h1 .tag").inner_text()

        # No network is offered on this server: the local limit counts characters.
        def counted(text: str) -> str:
            return f"{len(f'A1: {text} {tag}')} / 500"

        box.click()
        box.fill("Written on a train")
        expect(count).to_have_text(counted("Written on a train"))
        box.fill("Written on a train, going into a tunnel")
        expect(count).to_have_text(counted("Written on a train, going into a tunnel"))

        # The connection drops: the box says so, and a post says it did not go out.
        proxy.cut()
        expect(panelist.locator("#connection-status")).to_have_text(re.compile("reconnecting"))
        expect(status).to_contain_text("Connection lost")
        panelist.get_by_role("button", name="Post", exact=True).click()
        expect(status).to_contain_text("No connection to jamhost")
        expect(box).to_have_value("Written on a train, going into a tunnel")
        shot(panelist, screenshots, "03-compose-offline-phone")

        # Back online: the same press posts it, once.
        proxy.restore()
        expect(panelist.locator("#connection-status")).to_have_text("live", timeout=60_000)
        panelist.get_by_role("button", name="Post", exact=True).click()
        expect(panelist.locator("#compose [role=status].ok")).to_have_text("Posted.")
        posted = viewer.locator("#stream article.post", has_text="going into a tunnel")
        expect(posted).to_have_count(1)

        # The answer is lost after the server stored the post: the box says it may have
        # gone out, keeps the text, and pressing Post again does not post it twice.
        compose_url = re.compile(r"/live/compose/$")

        def lose_the_answer(route: Any) -> None:
            route.fetch()
            route.abort()

        panelist.route(compose_url, lose_the_answer)
        box.click()
        box.fill("Sent once, answer lost")
        panelist.get_by_role("button", name="Post", exact=True).click()
        expect(status).to_contain_text("may not have gone out")
        expect(box).to_have_value("Sent once, answer lost")
        panelist.unroute(compose_url)
        # An error answer says so too (here: busy, with when to try again).
        panelist.route(
            compose_url,
            lambda route: route.fulfill(status=503, headers={"Retry-After": "7"}, body="busy"),
        )
        panelist.get_by_role("button", name="Post", exact=True).click()
        expect(status).to_have_text(re.compile(r"jamhost is busy\. Try again in 7 s"))
        panelist.unroute(compose_url)
        panelist.get_by_role("button", name="Post", exact=True).click()
        # The first press had stored it: this one is told so, and it is there once.
        expect(panelist.locator("#compose [role=status].ok")).to_have_text(
            "Already posted: this was sent before and is in the stream once."
        )
        expect(viewer.locator("#stream article.post", has_text="answer lost")).to_have_count(1)

        # The text also survives a reload.
        desk = people.page()
        people.log_in(desk, "panelist", room(slug))
        desk.locator("#compose-body").fill("A draft I do not want to lose")
        desk.reload()
        expect(desk.locator("#compose-body")).to_have_value("A draft I do not want to lose")
        expect(desk.locator("#compose-count .count")).to_have_text(
            counted("A draft I do not want to lose")
        )
        shot(desk, screenshots, "03-compose-draft-desktop")
    finally:
        proxy.close()


# 4 ---------------------------------------------------------------------------------------


WATCH_STATUS = """() => {
  window.__afterEnd = [];
  const status = document.getElementById("connection-status");
  new MutationObserver(() => {
    const header = document.getElementById("jam-header");
    const over = header && /^(ended|archived)$/.test(header.getAttribute("data-status"));
    if (over) window.__afterEnd.push(status.textContent);
  }).observe(status, {childList: true, characterData: true, subtree: true});
}"""


def test_an_ended_jam_says_so_everywhere(
    people: People, data: dict[str, Any], screenshots: Path
) -> None:
    slug = data["ending"]
    url = people.server.url
    viewer = people.page()
    viewer.goto(url + room(slug))
    panelist = people.page(phone=True)
    people.log_in(panelist, "panelist", room(slug))
    moderator = people.page()
    people.log_in(moderator, "moderator", f"/jams/{slug}/console/")
    screen = people.page()
    screen.goto(f"{url}/jams/{slug}/screen/")
    watching = (viewer, panelist, moderator, screen)
    for page in watching:
        expect(page.locator("#connection-status")).to_have_text("live")
        page.evaluate(WATCH_STATUS)
    expect(panelist.locator("#compose")).to_be_visible()

    host = people.page()
    people.log_in(host, "host", room(slug))
    host.once("dialog", lambda dialog: dialog.accept())
    host.get_by_role("button", name="End the jam").click()

    replay = f"/jams/{slug}/transcript/"
    for page in watching:
        expect(page.locator("#connection-status")).to_have_text("ended")
        expect(page.locator("#jam-header")).to_contain_text("This jam has ended")
    # The replay link appears as soon as the transcript exists, without a reload.
    for page in (viewer, panelist, moderator):
        expect(page.locator(f'#jam-header a[href="{replay}"]')).to_be_visible()
    expect(panelist.locator("#compose")).to_be_hidden()
    expect(panelist.get_by_text("The jam has ended; posting is closed.")).to_be_visible()
    for control in ("Release next question", "Extend 10 min", "End the jam"):
        expect(host.get_by_role("button", name=control)).to_have_count(0)
    for page in watching:
        seen = page.evaluate("window.__afterEnd")
        assert "live" not in seen, seen
    shot(viewer, screenshots, "04-ended-desktop")
    shot(panelist, screenshots, "04-ended-phone")
    # A fresh load says the same; so do the jam's page and the list.
    fresh = people.page(phone=True)
    fresh.goto(url + room(slug))
    expect(fresh.locator("#connection-status")).to_have_text("ended")
    expect(fresh.locator(f'#jam-header a[href="{replay}"]')).to_be_visible()
    fresh.goto(f"{url}/jams/{slug}/")
    expect(fresh.locator(".jam-detail .status")).to_have_text("Archived")
    fresh.locator(f'a[href="{replay}"]').first.click()
    expect(fresh.locator("#transcript")).to_be_visible()


# 5 ---------------------------------------------------------------------------------------


def test_ending_and_an_early_release_ask_first(
    people: People, data: dict[str, Any], screenshots: Path
) -> None:
    slug = data["busy"]
    host = people.page()
    people.log_in(host, "host", room(slug))
    expect(host.locator("#connection-status")).to_have_text("live")
    asked: list[str] = []

    def answer(accept: bool) -> None:
        def handle(dialog: Any) -> None:
            asked.append(dialog.message)
            if accept:
                dialog.accept()
            else:
                dialog.dismiss()

        host.once("dialog", handle)

    question = host.locator("#jam-header .question-text")
    before = question.inner_text()
    answer(False)
    host.get_by_role("button", name="Release next question").click()
    assert re.fullmatch(r"Release Q2 now, \d+ min before its time\?", asked[-1]), asked
    host.wait_for_timeout(1000)  # nothing was sent: the page stays as it was
    expect(question).to_have_text(before)
    answer(False)
    host.get_by_role("button", name="End the jam").click()
    assert asked[-1].startswith("End the jam now, for everyone?"), asked
    host.wait_for_timeout(1000)
    expect(host.locator("#connection-status")).to_have_text("live")
    answer(True)
    host.get_by_role("button", name="Release next question").click()
    expect(host.locator(".messages")).to_contain_text("Q2 is out.")
    expect(question).to_have_text("Busy " + data["users"]["host"].split("_")[0] + ": question 2?")
    shot(host, screenshots, "05-released-on-request")


# 7 ---------------------------------------------------------------------------------------


def test_an_ended_jam_shows_how_long_it_really_ran(
    people: People, data: dict[str, Any], screenshots: Path
) -> None:
    slug, tag = data["ran"]["slug"], data["ran"]["hashtag"]
    went_live = datetime.fromisoformat(data["ran"]["went_live_at"])
    url = people.server.url
    host = people.page(zone="Europe/Berlin")
    people.log_in(host, "host", room(slug))
    host.once("dialog", lambda dialog: dialog.accept())
    host.get_by_role("button", name="End the jam").click()
    header = host.locator("#jam-header")
    expect(header).to_contain_text("This jam has ended after")
    ran = int(re.search(r"ended after (\d+) minutes", header.inner_text()).group(1))  # type: ignore[union-attr]
    # It went live half an hour or so before this test ended it, planned for an hour.
    assert abs(ran - (datetime.now(UTC) - went_live).total_seconds() / 60) <= 1.5, ran
    assert ran < 60
    said = f"ran {ran} minutes"
    host.goto(f"{url}/jams/{slug}/")
    expect(host.locator(".jam-detail .meta")).to_contain_text(said)
    expect(host.locator(".jam-detail .meta")).not_to_contain_text("60 minutes")
    shot(host, screenshots, "07-ran-jam-page", full=True)
    host.goto(f"{url}/jams/{slug}/transcript/")
    expect(host.locator(".replay-head .meta")).to_contain_text(said)
    request = host.context.request
    for fmt in ("md", "html"):
        assert said in request.get(f"{url}/jams/{slug}/transcript.{fmt}").text(), fmt
    ics = request.get(f"{url}/jams/{slug}/calendar.ics").text()
    start = datetime.strptime(re.search(r"DTSTART:(\w+)", ics).group(1), "%Y%m%dT%H%M%SZ")  # type: ignore[union-attr]
    end = datetime.strptime(re.search(r"DTEND:(\w+)", ics).group(1), "%Y%m%dT%H%M%SZ")  # type: ignore[union-attr]
    assert abs((end - start).total_seconds() / 60 - ran) <= 1, ics

    # The hashtag is free again from the real end plus 30 minutes, not the planned end.
    berlin = ZoneInfo("Europe/Berlin")
    host.goto(f"{url}/new/")
    host.get_by_label("Title").fill("Follow-up jam")
    host.get_by_label("Hashtag").fill(tag)
    soon = (datetime.now(berlin) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    host.get_by_label("Starts at").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    host.get_by_role("button", name="Create the jam").click()
    expect(host.locator(".field.has-error")).to_contain_text(f"#{tag} is reserved by")
    # In the host's own zone: Berlin, the zone the form was typed in.
    expect(host.locator(".field.has-error")).to_contain_text("(Europe/Berlin)")
    shot(host, screenshots, "07-clash-in-host-zone", full=True)
    later = (datetime.now(berlin) + timedelta(minutes=32)).replace(second=0, microsecond=0)
    host.get_by_label("Starts at").fill(later.strftime("%Y-%m-%dT%H:%M"))
    host.get_by_role("button", name="Create the jam").click()
    expect(host.locator(".messages")).to_contain_text("is saved as a draft")


# 8 ---------------------------------------------------------------------------------------


def test_new_posts_are_seen(people: People, data: dict[str, Any], screenshots: Path) -> None:
    slug = data["busy"]
    url = people.server.url
    viewer = people.page()
    viewer.goto(url + room(slug))
    expect(viewer.locator("#connection-status")).to_have_text("live")
    panelist = people.page()
    people.log_in(panelist, "panelist", room(slug))

    def post(text: str) -> None:
        panelist.locator("#compose-body").fill(text)
        panelist.get_by_role("button", name="Post", exact=True).click()
        expect(panelist.locator("#compose [role=status].ok")).to_have_text("Posted.")

    # Scrolled up, reading: two posts arrive below, and the viewer is told so.
    viewer.evaluate("window.scrollTo(0, 0)")
    arrivals = viewer.locator("#arrivals")
    post("Arrived while you read, one")
    post("Arrived while you read, two")
    expect(arrivals).to_have_text("2 new posts below ↓")
    shot(viewer, screenshots, "08-new-below-desktop")
    arrivals.click()
    expect(viewer.locator("#stream article.post", has_text="read, one")).to_be_in_viewport()
    expect(arrivals).to_be_hidden()

    # At the newest post, following along: the next one comes into view by itself.
    viewer.locator("#stream article.post").last.scroll_into_view_if_needed()
    post("Followed along")
    expect(viewer.locator("#stream article.post", has_text="Followed along")).to_be_in_viewport()
    expect(arrivals).to_be_hidden()

    # Newest first, scrolled down: they arrive above.
    viewer.get_by_label("Newest first").check()
    viewer.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    post("Newest first, arrived above")
    expect(arrivals).to_have_text("1 new post above ↑")
    viewer.get_by_label("Newest first").uncheck()

    # A phone: the first screen shows posts; the compose box stays one line until used.
    phone = people.page(phone=True)
    people.log_in(phone, "guest", room(slug))
    expect(phone.locator("#connection-status")).to_have_text("live")
    first = phone.locator("#stream article.post").first
    expect(first).to_be_in_viewport()
    box = phone.locator("#compose")
    assert (box.bounding_box() or {"height": 999})["height"] < 80
    expect(phone.get_by_role("button", name="Post", exact=True)).to_be_hidden()
    shot(phone, screenshots, "08-phone-first-screen")
    phone.locator("#compose-body").tap()
    expect(phone.get_by_role("button", name="Post", exact=True)).to_be_visible()
    shot(phone, screenshots, "08-phone-compose-open")
    violations = axe_check(phone, "room on a phone, compose open")
    assert not violations, violations


# 9 ---------------------------------------------------------------------------------------


def test_people_not_signed_in_get_links_that_bring_them_back(
    people: People, data: dict[str, Any], screenshots: Path
) -> None:
    audience = data["audience"]
    slug = audience["slug"]
    url = people.server.url
    anon = people.page()
    anon.goto(url + room(slug))
    expect(anon.locator("#connection-status")).to_have_text("live")
    question = anon.locator(f"#post-{audience['question']}")
    answer = anon.locator(f"#post-{audience['answer']}")
    # No controls that would fail: sign-in links instead, on posts there at load...
    expect(anon.locator("#stream [data-vote]:visible")).to_have_count(0)
    expect(anon.locator("#stream [data-reply]:visible")).to_have_count(0)
    expect(anon.locator("#stream .flag-menu:visible")).to_have_count(0)
    expect(question.get_by_role("link", name="Sign in to upvote, reply or flag")).to_be_visible()
    expect(answer.get_by_role("link", name="Sign in to reply or flag")).to_be_visible()
    expect(question.locator(".upvotes")).to_have_text("▲ 0 upvotes")
    # ...and on posts arriving live.
    panelist = people.page()
    people.log_in(panelist, "panelist", room(slug))
    panelist.locator("#compose-body").fill("A live answer for the anonymous viewer")
    panelist.get_by_role("button", name="Post", exact=True).click()
    live_post = anon.locator("#stream article.post", has_text="A live answer for the anonymous")
    expect(live_post.get_by_role("link", name="Sign in to reply or flag")).to_be_visible()
    expect(live_post.locator("[data-reply]")).to_be_hidden()
    violations = axe_check(anon, "room, not signed in")
    assert not violations, violations
    shot(anon, screenshots, "09-signed-out-desktop")

    # The link signs in and comes back to the post.
    question.get_by_role("link", name="Sign in to upvote, reply or flag").click()
    expect(anon).to_have_url(re.compile(r"/accounts/login/\?next="))
    anon.get_by_label("Username").fill(data["users"]["guest"])
    anon.get_by_label("Password").fill(data["password"])
    anon.locator("#main").get_by_role("button", name="Log in").click()
    expect(anon).to_have_url(url + room(slug) + f"#post-{audience['question']}")
    expect(question.get_by_role("link", name=re.compile("Sign in"))).to_be_hidden()
    # The guest asked this question: the ▲ is not theirs to press, and it says why.
    vote = question.locator("[data-vote]")
    expect(vote).to_have_attribute("aria-disabled", "true")
    expect(vote).to_have_attribute("title", re.compile("your own question"))
    vote.click(force=True)
    expect(anon.locator("#audience-notice")).to_have_text(re.compile("your own question"))
    shot(anon, screenshots, "09-own-question")
    phone = people.page(phone=True)
    phone.goto(url + room(slug))
    expect(phone.locator("#connection-status")).to_have_text("live")
    phone.locator(f"#post-{audience['question']}").scroll_into_view_if_needed()
    shot(phone, screenshots, "09-signed-out-phone")


# 10 --------------------------------------------------------------------------------------


def test_an_invite_opened_logged_out_shows_the_jam(
    people: People, data: dict[str, Any], screenshots: Path
) -> None:
    url = people.server.url
    stranger = people.page(phone=True)
    stranger.goto(url + data["invite"])
    card = stranger.locator(".invite-card")
    expect(card.get_by_role("heading", level=1)).to_have_text(
        f"Join “Upcoming {data['users']['host'].split('_')[0]}” as panelist"
    )
    expect(card).to_contain_text(f"Hana Host @{data['users']['host']}")
    expect(card).to_contain_text(f"#{data['upcoming']['hashtag']}")
    expect(card).to_contain_text("Panelist: you answer each question")
    expect(card.locator("time.local-time")).to_have_text(re.compile(r"\d{4}|\w+ \d+"))
    shot(stranger, screenshots, "10-invite-logged-out-phone", full=True)
    violations = axe_check(stranger, "invite, logged out")
    assert not violations, violations
    card.get_by_role("link", name="Sign up to accept").click()
    name = "invitee_" + secrets.token_hex(3)
    stranger.get_by_label("Username").fill(name)
    stranger.locator("#id_password1").fill(data["password"])
    stranger.locator("#id_password2").fill(data["password"])
    stranger.get_by_role("button", name="Create account").click()
    expect(stranger).to_have_url(url + data["invite"])
    stranger.get_by_role("button", name="Accept: join as panelist").click()
    expect(stranger.locator(".messages")).to_contain_text("You are now a panelist")
    desk = people.page()
    desk.goto(url + data["invite"])
    expect(desk.locator(".invite-card")).to_contain_text("already used")
    shot(desk, screenshots, "10-invite-used-desktop")


# 11 --------------------------------------------------------------------------------------


def test_front_page_clash_zone_past_start_keyboard_and_csv(
    people: People, data: dict[str, Any], screenshots: Path
) -> None:
    url = people.server.url
    newcomer = people.page(zone="America/New_York")
    newcomer.goto(url + "/")
    intro = newcomer.locator(".intro")
    expect(intro).to_contain_text("A Tweet Jam is an hour of questions and answers")
    shot(newcomer, screenshots, "11-front-page-desktop")
    phone = people.page(phone=True)
    phone.goto(url + "/")
    shot(phone, screenshots, "11-front-page-phone")
    intro.get_by_role("link", name="Host a jam").click()
    name = "newhost_" + secrets.token_hex(3)
    newcomer.get_by_label("Username").fill(name)
    newcomer.locator("#id_password1").fill(data["password"])
    newcomer.locator("#id_password2").fill(data["password"])
    newcomer.get_by_role("button", name="Create account").click()
    expect(newcomer.get_by_role("heading", name="New jam")).to_be_visible()

    # A clash names the holder's times in the host's zone (New York here).
    new_york = ZoneInfo("America/New_York")
    local = datetime.fromisoformat(data["upcoming"]["starts_at"]).astimezone(new_york)
    end = local + timedelta(minutes=60)
    until = f"{end:%H:%M}" if end.date() == local.date() else f"{end:%Y-%m-%d %H:%M}"
    newcomer.get_by_label("Title").fill("Clashing")
    newcomer.get_by_label("Hashtag").fill(data["upcoming"]["hashtag"])
    newcomer.get_by_label("Starts at").fill(local.strftime("%Y-%m-%dT%H:%M"))
    newcomer.get_by_role("button", name="Create the jam").click()
    expect(newcomer.locator(".field.has-error")).to_contain_text(
        f"from {local:%Y-%m-%d %H:%M} to {until} (America/New_York)"
    )

    # A start in the past warns as it is typed, and on the draft's page.
    past = datetime.now(new_york) - timedelta(hours=2)
    newcomer.get_by_label("Hashtag").fill("Past" + secrets.token_hex(3))
    newcomer.get_by_label("Starts at").fill(past.strftime("%Y-%m-%dT%H:%M"))
    expect(newcomer.locator("[data-past-start]")).to_be_visible()
    shot(newcomer, screenshots, "11-past-start-warning")
    newcomer.get_by_role("button", name="Create the jam").click()
    expect(newcomer.locator(".status-card .warning")).to_contain_text("The start time has passed")

    # Ctrl+Enter posts from the compose box, Cmd+Enter too, and Ctrl+Enter sends a reply.
    panelist = people.page()
    people.log_in(panelist, "panelist", room(data["compose"]))
    stream = panelist.locator("#stream")
    for keys, text in (("Control+Enter", "Sent with Ctrl+Enter"), ("Meta+Enter", "Sent with Cmd")):
        panelist.locator("#compose-body").fill(text)
        panelist.locator("#compose-body").press(keys)
        expect(panelist.locator("#compose [role=status].ok")).to_have_text("Posted.")
        expect(stream.locator("article.post", has_text=text)).to_have_count(1)
    target = stream.locator("article.post", has_text="Sent with Ctrl+Enter")
    target.get_by_role("button", name="Reply").click()
    panelist.get_by_label(re.compile("Reply to")).fill("Replied with Ctrl+Enter")
    panelist.get_by_label(re.compile("Reply to")).press("Control+Enter")
    expect(panelist.locator("#audience-notice")).to_have_text("Replied.")

    # The CSV opens cleanly in Excel: UTF-8 with a byte order mark.
    csv = panelist.context.request.get(f"{url}/jams/{data['archived']}/transcript.csv").body()
    assert csv.startswith(b"\xef\xbb\xbfseq,"), csv[:20]
    assert "Naïve café answer 🎉".encode() in csv
