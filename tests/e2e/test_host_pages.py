"""The host's pages in a real browser in New York: the start is typed in local time and
stored in UTC (static/js/host.js sends the zone), the edit form shows it back in local
time, the run-sheet works through htmx swaps, and the pages pass axe-core."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer, axe_check

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
NEW_YORK = ZoneInfo("America/New_York")


def test_host_pages_in_new_york(
    jamhost_server: LiveServer, browser: Any, screenshots: Path
) -> None:
    server = jamhost_server
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        timezone_id="America/New_York",
        locale="en-US",
        bypass_csp=True,  # axe-core is injected as an inline script
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    violations: list[dict[str, Any]] = []
    try:
        username = "ny_host_" + secrets.token_hex(3)
        page.goto(server.url + "/accounts/signup/")
        page.get_by_label("Username").fill(username)
        page.locator("#id_password1").fill("correct-horse-battery-9")
        page.locator("#id_password2").fill("correct-horse-battery-9")
        page.get_by_role("button", name="Create account").click()

        page.get_by_role("link", name="New jam").click()
        expect(page.locator("[data-time-zone-label]")).to_have_text("America/New_York")
        assert page.locator("input[name=time_zone]").input_value() == "America/New_York"
        # A bad first try: the errors are shown next to the fields, nothing is lost.
        page.get_by_label("Title").fill("Evening chat")
        page.get_by_label("Hashtag").fill("1234")
        page.get_by_role("button", name="Create the jam").click()
        expect(page.locator(".field.has-error")).to_have_count(2)  # hashtag, start
        expect(page.get_by_text("cannot be only digits")).to_be_visible()
        violations += axe_check(page, "new jam form with errors")

        local = (datetime.now(NEW_YORK) + timedelta(days=3)).replace(
            hour=19, minute=30, second=0, microsecond=0
        )
        page.get_by_label("Hashtag").fill("Ny" + secrets.token_hex(3))
        page.get_by_label("Starts at").fill(local.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Create the jam").click()
        expect(page.locator(".messages")).to_contain_text("is saved as a draft")

        utc = local.astimezone(UTC)
        stamp = page.locator(".status-card time.local-time")
        expect(stamp).to_have_attribute("datetime", utc.isoformat())
        # The edit form shows the start back in New York time.
        expect(page.get_by_label("Starts at")).to_have_value(local.strftime("%Y-%m-%dT%H:%M"))

        sheet = page.locator("#question-sheet")
        for offset, text in ((0, "First question?"), (15, "Second question?")):
            sheet.locator(".add-question textarea[name=text]").fill(text)
            sheet.locator(".add-question input[name=offset_minutes]").fill(str(offset))
            sheet.get_by_role("button", name="Add question").click()
            expect(page.locator("#question-sheet .run-sheet")).to_contain_text(text)
        sheet.locator(".add-question textarea[name=text]").fill("Bad offset?")
        sheet.locator(".add-question input[name=offset_minutes]").fill("90")
        sheet.get_by_role("button", name="Add question").click()
        expect(page.locator("#question-sheet")).to_contain_text("0 to 59 minutes")
        page.get_by_role("button", name="Move Q2 up").click()
        expect(page.locator("#question-sheet .run-q").first).to_contain_text("Second question?")
        page.locator("#question-sheet .run-q").first.get_by_role("button", name="Edit").click()
        page.locator("#question-sheet .run-q textarea[name=text]").fill("Second, edited?")
        page.get_by_role("button", name="Save Q1").click()
        expect(page.locator("#question-sheet .run-q").first).to_contain_text("Second, edited?")
        page.get_by_role("button", name="Schedule the jam").click()
        expect(page.locator(".messages")).to_contain_text("Scheduled")
        page.screenshot(path=str(screenshots / "host-manage-new-york.png"), full_page=True)
        violations += axe_check(page, "host manage page")

        page.get_by_role("link", name="My jams").click()
        expect(page.locator(".jam-card")).to_contain_text("Evening chat")
        violations += axe_check(page, "my jams")
        page.locator(".jam-card a", has_text="Evening chat").click()
        with page.expect_download() as download:
            page.get_by_role("link", name="Add to calendar").click()
        ics = Path(download.value.path()).read_bytes()
        assert f"DTSTART:{utc:%Y%m%dT%H%M%S}Z".encode() in ics
        assert re.search(rb"SUMMARY:Evening chat", ics)
    finally:
        context.close()
    assert not violations, json.dumps(violations, indent=1)
