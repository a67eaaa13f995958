"""A jam's embed in a real browser, inside pages served from other origins: on the site
the host allowed, posts appear in the frame as they are written and the snippet's script
fits the frame; on a site the host did not allow, the browser refuses the frame (the
embed's Content-Security-Policy frame-ancestors) and the script says so on the page.

jamhost serves on http://localhost:<port>; the two publishers' pages on
http://127.0.0.1:<their ports>, each a different origin (and site) from jamhost's."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer, axe_check, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SETUP = """
import json
from django.templatetags.static import static
from jamhost.jams.embedding import jam_embed_origins_set
from jamhost.jams.models import Role
from tests.factories import MembershipFactory, UserFactory, live_jam
jam = live_jam(released=1, slug="embed-{run}", hashtag="Embed{run}", title="Embedded {run}")
MembershipFactory(jam=jam, role=Role.PANELIST, user=UserFactory(username="pan_{run}"))
jam_embed_origins_set(jam=jam, text="{allowed}")
print(json.dumps({{"script": static("js/embed.js")}}))
"""

COMPOSE = """
from django.contrib.auth import get_user_model
from jamhost.jams.models import Jam
from jamhost.posts.services import post_compose
post_compose(
    jam=Jam.objects.get(slug="embed-{run}"),
    user=get_user_model().objects.get(username="pan_{run}"),
    body={body!r},
)
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A publisher's article</title></head>
<body><h1>Our article about the jam</h1><p>Follow it live:</p>
{snippet}
</body></html>"""


def shell(server: LiveServer, code: str) -> Any:
    out = server.manage("shell", "-c", code).strip().splitlines()
    return json.loads(out[-1]) if out and out[-1].startswith("{") else None


@contextlib.contextmanager
def publisher() -> Iterator[tuple[str, list[str]]]:
    """Another site: serves whatever page is put into the list it yields, at its origin."""
    page: list[str] = [""]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page[0].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", page
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_embed_on_an_allowed_site_and_on_another(
    jamhost_server: LiveServer, browser: Any, screenshots: Path
) -> None:
    server = jamhost_server
    run = secrets.token_hex(3)
    with publisher() as (allowed, allowed_page), publisher() as (other, other_page):
        urls = shell(server, SETUP.format(run=run, allowed=allowed))
        snippet = (
            f'<iframe src="{server.url}/jams/embed-{run}/embed/?order=newest&height=520" '
            f'title="The jam, live" width="100%" height="520" data-jamhost-embed></iframe>\n'
            f'<script src="{server.url}{urls["script"]}" async></script>'
        )
        allowed_page[0] = other_page[0] = PAGE.format(snippet=snippet)
        context = new_context(browser)
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        try:
            # The allowed site: the embed connects on the live path and shows new posts.
            page.goto(allowed + "/")
            frame = page.frame_locator("iframe[data-jamhost-embed]")
            expect(frame.locator("#connection-status")).to_have_text("live")
            expect(frame.locator("#jam-header .question-text")).to_be_visible()
            expect(frame.get_by_role("link", name="Join the jam")).to_have_attribute(
                "href", f"{server.url}/jams/embed-{run}/live/"
            )
            shell(server, COMPOSE.format(run=run, body="First answer, seen in the frame"))
            expect(frame.get_by_text("First answer, seen in the frame")).to_be_visible()
            shell(server, COMPOSE.format(run=run, body="Second answer, newest first"))
            expect(frame.get_by_text("Second answer, newest first")).to_be_visible()
            # Newest first, as the snippet asked: the newest post is shown above.
            texts = frame.locator("#stream article.post .post-text")
            first, second = (
                texts.filter(has_text=t).bounding_box() for t in ("First answer", "Second answer")
            )
            assert first and second and second["y"] < first["y"]
            # The script fitted the frame: it heard from the frame, from jamhost's origin.
            iframe = page.locator("iframe[data-jamhost-embed]")
            expect(iframe).to_have_attribute("data-jamhost-state", "shown")
            assert page.locator("[data-jamhost-refused]").count() == 0
            page.screenshot(path=str(screenshots / "embed-allowed.png"), full_page=True)
            assert not [m for m in console if "frame-ancestors" in m], console

            # Another site: the browser refuses the frame, and the script says so.
            console.clear()
            page.goto(other + "/")
            notice = page.locator("[data-jamhost-refused]")
            expect(notice).to_contain_text(
                f"This jam cannot be shown on this site: its host has not allowed {other}"
            )
            expect(notice.get_by_role("link", name="Open the jam on jamhost")).to_have_attribute(
                "href", f"{server.url}/jams/embed-{run}/live/"
            )
            expect(page.locator("iframe[data-jamhost-embed]")).to_be_hidden()
            # Nothing of the jam got into the frame: the browser never showed the page.
            child = next(f for f in page.frames if f != page.main_frame)
            assert child.locator("#connection-status").count() == 0
            assert "Embedded" not in (child.content() or "")
            assert any("frame-ancestors" in m for m in console), console
            # jamhost saw which site framed it (the browser's Sec-Fetch-Dest and Referer)
            # and logged the refusal once.
            noted = f"was framed by {other}, not one of its sites: refused"
            log = server.log_path.read_text(encoding="utf-8", errors="replace")
            assert log.count(noted) == 1, log[-2000:]
            assert f"was framed by {allowed}" not in log
            page.screenshot(path=str(screenshots / "embed-refused.png"), full_page=True)
        finally:
            context.close()


def test_the_hosts_preview_is_the_embed_framed_by_jamhost(
    jamhost_server: LiveServer, browser: Any
) -> None:
    """No site allowed: only jamhost itself frames the embed (the host's preview)."""
    server = jamhost_server
    run = secrets.token_hex(3)
    shell(server, SETUP.format(run=run, allowed=""))
    context = new_context(browser)
    page = context.new_page()
    problems: list[str] = []
    watch_errors(page, problems)
    try:
        page.goto(f"{server.url}/accounts/login/?next=/jams/embed-{run}/embed/setup/")
        # live_jam's host: log in as them.
        username = shell(
            server,
            "import json\nfrom jamhost.jams.models import Jam\n"
            f"print(json.dumps({{'u': Jam.objects.get(slug='embed-{run}').host.username}}))",
        )["u"]
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("correct-horse-battery")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text("No site may show the embed yet")).to_be_visible()
        violations = axe_check(page, "embed setup")
        preview = page.frame_locator("iframe.embed-preview")
        expect(preview.locator("#connection-status")).to_have_text("live")
        expect(page.locator("iframe.embed-preview")).to_have_attribute(
            "data-jamhost-state", "shown"
        )
        # A wrong site is a form error, and nothing is saved.
        page.get_by_label("Sites (one a line)").fill("https://news.example.org/articles/1")
        page.get_by_role("button", name="Save the sites").click()
        expect(page.locator("#origins .errorlist")).to_contain_text(
            "give the site alone, without a path: https://news.example.org"
        )
        page.get_by_label("Sites (one a line)").fill("https://news.example.org")
        page.get_by_role("button", name="Save the sites").click()
        expect(page.locator(".messages")).to_contain_text(
            "These sites may show the jam: https://news.example.org"
        )
        # The embed itself, opened on its own, as a screen reader would meet it.
        page.goto(f"{server.url}/jams/embed-{run}/embed/?theme=dark")
        expect(page.locator("#connection-status")).to_have_text("live")
        violations += axe_check(page, "embed, dark")
        assert not violations, json.dumps(violations, indent=1)
        assert not problems, problems
    finally:
        context.close()
