"""Search inside a jam: by words, author and question; each result jumps to the post's
permalink in the replay."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from jamhost.jams.models import Jam
from jamhost.posts.models import Post, PostStatus
from tests.transcripts.conftest import HIDDEN_TEXT
from tests.transcripts.pages import read


def results(client: Any, jam: Jam, **params: str) -> tuple[list[int], str]:
    response = client.get(f"/jams/{jam.slug}/transcript/search/", params)
    assert response.status_code == 200
    html = response.content.decode()
    links = re.findall(
        rf'<a class="hit-link" href="/jams/{jam.slug}/transcript/posts/(\d+)/"', html
    )
    return [int(seq) for seq in links], html


def seq(jam: Jam, start: str) -> int:
    return Post.objects.get(jam=jam, text__startswith=start).seq


def test_words_match_without_case_or_accents_and_all_must_be_there(
    client: Any, ended_jam: Jam
) -> None:
    found, html = results(client, ended_jam, q="WALK email")
    assert found == [seq(ended_jam, "A1: A walk")]
    assert "1 post found" in html
    assert "A <mark>walk</mark>, then <mark>email</mark>" in html  # the words marked
    found, html = results(client, ended_jam, q="unicode")  # the post says “ünïcode”
    assert found == [seq(ended_jam, "Emoji")]
    assert "<mark>ünïcode</mark>" in html
    assert results(client, ended_jam, q="walk coffee")[0] == []
    # A phrase in quotes must be there as written.
    assert results(client, ended_jam, q='"then email"')[0] == [seq(ended_jam, "A1: A walk")]
    assert results(client, ended_jam, q='"email then"')[0] == []


def test_by_author_and_by_question(client: Any, ended_jam: Jam) -> None:
    gus = [
        p.seq
        for p in Post.objects.filter(
            jam=ended_jam, author_handle="gus_remotejam", status=PostStatus.VISIBLE
        ).order_by("seq")
    ]
    assert results(client, ended_jam, author="@GUS_remotejam")[0] == gus
    assert results(client, ended_jam, author="Gus Guest")[0] == gus  # the name works too
    q2 = list(
        Post.objects.filter(jam=ended_jam, question__number=2, status=PostStatus.VISIBLE)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert results(client, ended_jam, question="2")[0] == q2
    # All three at once narrow it down.
    assert results(client, ended_jam, q="notes", author="gus", question="1")[0] == [
        seq(ended_jam, "A1: A walk")
    ]
    # A question that is not the jam's is refused with a message, the rest still applies.
    found, html = results(client, ended_jam, q="notes", question="9")
    assert "Pick one of the jam" in unescape(html) and len(found) == 2


def test_hidden_posts_are_never_found(client: Any, ended_jam: Jam) -> None:
    assert results(client, ended_jam, q="spam")[0] == []
    assert HIDDEN_TEXT not in results(client, ended_jam, author="gus")[1]


def test_a_result_opens_the_replay_at_the_post(client: Any, ended_jam: Jam) -> None:
    found, _ = results(client, ended_jam, q="coffee")
    assert found == [seq(ended_jam, "A1: Coffee")]
    page = read(client, f"/jams/{ended_jam.slug}/transcript/posts/{found[0]}/")
    assert f'data-focus-seq="{found[0]}"' in page and f'id="post-{found[0]}"' in page


def test_the_replay_asks_for_results_alone(client: Any, ended_jam: Jam) -> None:
    page = read(client, f"/jams/{ended_jam.slug}/transcript/")
    form = re.search(r'<form class="jam-search[^>]*>', page)
    assert form and f'hx-get="/jams/{ended_jam.slug}/transcript/search/"' in form.group(0)
    assert 'action="/jams/' in form.group(0)  # and without JavaScript, the search page
    response = client.get(
        f"/jams/{ended_jam.slug}/transcript/search/", {"q": "walk"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.startswith('<div id="search-results"') and "<html" not in html
    assert "<mark>walk</mark>" in html


def test_empty_search_and_many_results(client: Any, db: Any) -> None:
    from tests.transcripts.pages import big_jam

    jam = big_jam(posts=300)
    found, html = results(client, jam)
    assert found == [] and "Search this jam by words" in html
    found, html = results(client, jam, q="#BenchJam")
    assert len(found) == 50 and "300 posts found; showing 1–50" in html
    second, html = results(client, jam, q="#BenchJam", page="2")
    assert second[0] == found[-1] + 1 and "Page 2 of 6" in html


def test_every_naughty_string_as_search_or_part_gets_an_answer_not_a_500(
    client: Any, ended_jam: Jam
) -> None:
    from tests.security.naughty import NAUGHTY, unescaped

    base = f"/jams/{ended_jam.slug}/transcript"
    read(client, f"{base}/")  # archived
    for payload in NAUGHTY:
        for params in ({"q": payload}, {"author": payload}, {"question": payload}):
            response = client.get(f"{base}/search/", params)
            assert response.status_code == 200, (params, response.status_code)
            assert not unescaped(payload, response.content.decode()), params
        for path in (f"{base}/q1/", f"{base}/v1/play/1/", f"{base}/v1/q1/1-1/"):
            response = client.get(path, {"part": payload, "from": payload})
            assert response.status_code in (200, 404), (path, payload, response.status_code)
