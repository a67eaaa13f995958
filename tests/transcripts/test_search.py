from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from jamhost.jams.models import Jam
from jamhost.transcripts.services import jam_archive
from tests.transcripts.conftest import build_jam


def titles(client: Any, **params: str) -> list[str]:
    response = client.get("/past/", params)
    assert response.status_code == 200
    return re.findall(r"<strong>([^<]+)</strong>", response.content.decode())


@pytest.fixture
def past(db: Any) -> dict[str, Jam]:
    remote = build_jam(title="Remote Work Jam", hashtag="RemoteJam")
    podcast = build_jam(
        title="Podcast Chat", hashtag="PodcastChat", x_status_id="1790000000000000003"
    )
    Jam.objects.filter(pk=podcast.pk).update(starts_at=podcast.starts_at - timedelta(days=30))
    for jam in (remote, podcast):
        jam_archive(jam_id=jam.pk)
    # The podcast jam's only distinctive transcript words.
    from jamhost.posts.models import Post

    Post.objects.filter(jam=podcast, text__startswith="Emoji").update(
        text="Microphones and editing tools #PodcastChat"
    )
    jam_archive(jam_id=podcast.pk)
    return {"remote": Jam.objects.get(pk=remote.pk), "podcast": Jam.objects.get(pk=podcast.pk)}


def test_search_titles_hashtags_and_transcript_text(client: Any, past: dict[str, Jam]) -> None:
    assert titles(client) == ["Remote Work Jam", "Podcast Chat"]  # newest first
    assert titles(client, q="podcast") == ["Podcast Chat"]
    assert titles(client, q="#RemoteJam") == ["Remote Work Jam"]
    assert titles(client, q="microphones") == ["Podcast Chat"]  # transcript text only
    assert titles(client, q="nothing-like-this") == []


def test_filters_by_host_and_date(client: Any, past: dict[str, Jam]) -> None:
    remote, podcast = past["remote"], past["podcast"]
    assert titles(client, host=podcast.host.username) == ["Podcast Chat"]
    day = remote.starts_at.date()
    assert titles(client, since=day.isoformat()) == ["Remote Work Jam"]
    assert titles(client, until=(day - timedelta(days=1)).isoformat()) == ["Podcast Chat"]
    assert titles(client, q="jam", until=(day - timedelta(days=1)).isoformat()) == []


def test_bad_dates_are_explained_not_a_500(client: Any, past: dict[str, Jam]) -> None:
    response = client.get("/past/", {"since": "31/02/2026", "until": "2026-01-01"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter the start date as YYYY-MM-DD." in body
    response = client.get("/past/", {"since": "2026-05-01", "until": "2026-01-01"})
    assert "The end date is before the start date." in response.content.decode()
    assert client.get("/past/", {"page": "banana"}).status_code == 200


def test_past_page_query_count_is_fixed(
    client: Any, past: dict[str, Jam], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(3):  # count, page, hosts
        client.get("/past/", {"q": "jam"})


@pytest.mark.services
def test_postgresql_full_text_search_stems_and_ranks(client: Any, past: dict[str, Jam]) -> None:
    assert connection.vendor == "postgresql"
    # "microphone" matches "Microphones" and "tool" matches "tools" only through stemming;
    # a substring match would not find "edit tools" either.
    assert titles(client, q="microphone") == ["Podcast Chat"]
    assert titles(client, q="edit tools") == ["Podcast Chat"]
    assert titles(client, q='"editing tools"') == ["Podcast Chat"]  # a phrase
    assert titles(client, q='"tools editing"') == []
    assert titles(client, q="microphones -editing") == []  # websearch syntax: a word left out
    assert titles(client, q="deep work") == ["Remote Work Jam", "Podcast Chat"]
    assert titles(client, q="remotejam") == ["Remote Work Jam"]
