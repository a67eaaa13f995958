"""Polls in the record: the archived snapshot (valid against the transcript schema), the
CSV (neutralised cells, rows the importer skips), Markdown, HTML and the replay page."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from jamhost.jams.lifecycle import jam_end
from jamhost.jams.models import Jam
from jamhost.polls.services import poll_close, poll_launch, poll_vote
from jamhost.transcripts.import_csv import rows_from_csv
from jamhost.transcripts.services import jam_archive
from tests.polls.conftest import PollRoom

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2] / "jamhost/transcripts/schema/transcript-v1.json"
    ).read_text()
)
FORMULA = "=HYPERLINK(1)"


@pytest.fixture
def archived() -> Jam:
    room = PollRoom()
    poll = poll_launch(
        jam=room.jam,
        user=room.host,
        text="@cmd|' /C calc'!A0 or tea?",
        options=[FORMULA, "Tea <b>"],
        open_minutes=5,
    )
    for voter, option in zip(room.voters, (1, 2, 2, 2), strict=True):
        poll_vote(poll_id=poll.pk, user=voter, option=option)
    poll_close(poll=poll)
    jam_end(jam=room.jam)
    jam_archive(jam_id=room.jam.pk)
    return Jam.objects.get(pk=room.jam.pk)


def download(client: Any, jam: Jam, fmt: str) -> str:
    response = client.get(f"/jams/{jam.slug}/transcript.{fmt}")
    assert response.status_code == 200, response.content[:300]
    return response.content.decode("utf-8-sig" if fmt == "csv" else "utf-8")


def test_the_snapshot_keeps_the_polls_final_counts_and_fits_the_schema(
    client: Any, archived: Jam
) -> None:
    snapshot = json.loads(download(client, archived, "json"))
    jsonschema.validate(snapshot, SCHEMA)
    [poll] = snapshot["polls"]
    assert poll["votes"] == 4
    assert [(o["label"], o["votes"]) for o in poll["options"]] == [(FORMULA, 1), ("Tea <b>", 3)]


def test_csv_has_a_neutralised_poll_row_that_the_importer_skips(client: Any, archived: Jam) -> None:
    body = download(client, archived, "csv")
    rows = list(csv.DictReader(io.StringIO(body)))
    polls = [row for row in rows if row["source"] == "poll"]
    assert len(polls) == 1
    text = polls[0]["text"]
    assert text.startswith("Poll: @cmd")
    assert f"{FORMULA}: 1 (25%)" in text and "Tea <b>: 3 (75%)" in text
    # Every cell a spreadsheet would run starts with an apostrophe.
    for row in rows:
        for cell in row.values():
            assert not cell or cell[0] not in "=+-@", row
    imported = rows_from_csv(io.BytesIO(body.encode("utf-8")))
    assert len(imported) == len(rows) - 1


def test_markdown_and_html_list_the_polls_escaped(client: Any, archived: Jam) -> None:
    markdown = download(client, archived, "md")
    assert "## Polls" in markdown
    assert "Tea \\<b\\>: 3 (75%)" in markdown
    html = download(client, archived, "html")
    assert '<section id="polls"' in html
    assert "Tea &lt;b&gt;" in html and "<b>" not in html.split('<section id="polls"')[1]
    assert 'style="width: 75%"' in html


def test_the_replay_shows_the_polls_results_as_bars(client: Any, archived: Jam) -> None:
    response = client.get(f"/jams/{archived.slug}/transcript/")
    assert response.status_code == 200
    page = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    polls = page.split('id="polls"', 1)[1]
    assert "Tea &lt;b&gt;" in polls
    assert 'style="width: 75%"' in polls and 'style="width: 25%"' in polls
