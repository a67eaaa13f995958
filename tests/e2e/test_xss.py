"""Text is escaped everywhere it is shown: `<script>`, `onerror=`, `onload=` and
`javascript:` payloads in posts, names, handles, questions and jam titles never run — on
the jam page, in the live room's first render, and when they arrive by a live push.

Every payload sets window.__pwned; the test asserts it stays undefined, that no payload
became an element (escaping held, not only the Content-Security-Policy), that the text is
shown as text, and that the page hit no CSP refusal (htmx and live.js work under it).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer, new_context, watch_errors

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

PAYLOADS = [
    "<script>window.__pwned='script'</script>",
    "<img src=x onerror=\"window.__pwned='img'\">",
    "<svg onload=\"window.__pwned='svg'\"></svg>",
    "javascript:window.__pwned='js-url'",
    '"><a href="javascript:window.__pwned=1">click</a>',
]
EVIL_NAME = "<img src=x onerror=\"window.__pwned='name'\">"
EVIL_HANDLE = "<svg onload=window.__pwned='handle'>"

SETUP = """
import json
from django.contrib.auth import get_user_model
from jamhost.jams.models import Question
from jamhost.jams import run_sheet
from jamhost.posts.services import post_compose, post_insert
from tests.factories import UserFactory, MembershipFactory, live_jam
payloads = json.loads(PAYLOADS)
jam = live_jam(questions=2, released=1, title=payloads[0], slug="xss-" + TAG, hashtag="Xss" + TAG)
jam.description = payloads[1]
jam.save()
Question.objects.filter(jam=jam, number=2).update(text=payloads[2])
q1 = jam.questions.get(number=1)
q1.text = payloads[1]
q1.save()
evil = UserFactory(username="evil_" + TAG, first_name=EVIL_NAME)
for p in payloads:
    post_compose(jam=jam, user=evil, body=p)
post_insert(jam=jam, body="from X", text="from X " + payloads[0], author_role="participant",
            author_key="x:1" + TAG, author_handle=EVIL_HANDLE, author_name=EVIL_NAME, source="x")
print(json.dumps({"slug": jam.slug}))
"""

PUSH = """
from jamhost.jams import run_sheet
from jamhost.jams.models import Jam
from jamhost.posts.services import post_compose
from django.contrib.auth import get_user_model
jam = Jam.objects.get(slug="xss-" + TAG)
evil = get_user_model().objects.get(username="evil_" + TAG)
for p in json.loads(PAYLOADS):
    post_compose(jam=jam, user=evil, body="pushed " + p)
run_sheet.question_release_next(jam=jam)
"""


def _shell(server: LiveServer, code: str, tag: str) -> str:
    prelude = (
        f"import json\nTAG = {tag!r}\nPAYLOADS = {json.dumps(PAYLOADS)!r}\n"
        f"EVIL_NAME = {EVIL_NAME!r}\nEVIL_HANDLE = {EVIL_HANDLE!r}\n"
    )
    return server.manage("shell", "-c", prelude + code)


def _assert_inert(page: Any, problems: list[str]) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined"
    injected = page.evaluate(
        """() => Array.from(document.querySelectorAll(
            'script:not([src]), [onerror], [onload], [onclick], a[href^="javascript:" i]'
        )).map(e => e.outerHTML.slice(0, 200))"""
    )
    assert injected == [], (page.url, injected)
    assert problems == [], problems


def test_payloads_never_run(jamhost_server: LiveServer, browser: Any) -> None:
    import secrets

    tag = secrets.token_hex(3)
    slug = json.loads(_shell(jamhost_server, SETUP, tag).strip().splitlines()[-1])["slug"]
    context = new_context(browser)
    page = context.new_page()
    problems: list[str] = []
    watch_errors(page, problems)
    try:
        page.goto(f"{jamhost_server.url}/jams/{slug}/")
        expect(page.locator("h1").first).to_contain_text("<script>")
        _assert_inert(page, problems)

        page.goto(f"{jamhost_server.url}/jams/{slug}/live/")
        expect(page.locator("#connection-status")).to_have_attribute("data-state", "live")
        posts = page.locator("#stream .post")
        expect(posts.filter(has_text="window.__pwned='img'")).to_have_count(1)
        # Names and handles are text, isolated in <bdi>.
        expect(page.locator("bdi.name", has_text="onerror=").first).to_be_visible()
        expect(page.locator("bdi.handle", has_text="<svg onload").first).to_be_visible()
        _assert_inert(page, problems)

        # Live pushes (posts and a released question) go through htmx's ws extension
        # and live.js's <template> parsing: they must stay inert too.
        _shell(jamhost_server, PUSH, tag)
        expect(posts.filter(has_text="pushed <script>")).to_have_count(1, timeout=20_000)
        expect(posts.filter(has_text="pushed javascript:")).to_have_count(1)
        expect(page.locator("#jam-header")).to_contain_text("window.__pwned='svg'")
        page.wait_for_timeout(500)  # let any injected handler have its chance
        _assert_inert(page, problems)

        # The question list and the run-sheet pages render the same text, inert.
        page.goto(f"{jamhost_server.url}/jams/{slug}/")
        _assert_inert(page, problems)
    finally:
        context.close()
