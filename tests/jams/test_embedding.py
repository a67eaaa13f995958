"""Which sites may show a jam's embed: only origins (http/https, host, port) are stored,
each written as a browser writes it, and every other entry is refused with what to write."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jamhost.jams.embedding import (
    MAX_EMBED_ORIGINS,
    embed_origin_clean,
    embed_origins_parse,
    jam_embed_origins_set,
)
from jamhost.jams.models import Jam
from tests.factories import JamFactory


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://news.example.org", "https://news.example.org"),
        ("https://News.Example.ORG/", "https://news.example.org"),
        ("HTTP://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://example.org:443", "https://example.org"),
        ("http://example.org:80/", "http://example.org"),
        ("https://example.org:8443", "https://example.org:8443"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("http://localhost:3000", "http://localhost:3000"),
    ],
)
def test_an_origin_is_stored_as_a_browser_writes_it(typed: str, stored: str) -> None:
    assert embed_origin_clean(typed) == stored


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("https://news.example.org/blog/", "without a path: https://news.example.org"),
        ("https://example.org/?x=1", "without a path"),
        ("https://example.org#top", "without a path"),
        ("news.example.org", "has no scheme: write it as https://news.example.org"),
        ("ftp://example.org", "only http:// and https://"),
        ("javascript://example.org", "only http:// and https://"),
        ("https://*.example.org", "wildcards are not allowed"),
        ("'self'", "has no scheme"),
        ("https://user:pw@example.org", "leave out the user name and password"),
        ("https://example.org:99999", "is not a site's address"),
        ("https://example.org:0", "from 1 to 65535"),
        ("https://", "names no host"),
        ("https://exa_mple.org", "does not name a valid host"),
        ("https://example.org.", "does not name a valid host"),
        ('https://a.org"', "does not name a valid host"),
        ("https://-bad.org", "does not name a valid host"),
    ],
)
def test_anything_but_an_origin_is_refused_with_what_to_write(typed: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        embed_origin_clean(typed)
    assert says in refused.value.messages[0]


def test_a_list_is_split_by_lines_commas_or_spaces_without_repeats() -> None:
    text = "https://a.example\r\n\nhttps://b.example, https://A.example/ http://c.example:81"
    assert embed_origins_parse(text) == [
        "https://a.example",
        "https://b.example",
        "http://c.example:81",
    ]
    assert embed_origins_parse("  \n ") == []


def test_every_wrong_entry_is_named() -> None:
    with pytest.raises(ValidationError) as refused:
        embed_origins_parse("https://ok.example\nhttps://x.example/page\nx.example")
    messages = refused.value.messages
    assert len(messages) == 2
    assert "https://x.example/page" in messages[0] and "x.example" in messages[1]


def test_the_list_has_a_limit() -> None:
    text = "\n".join(f"https://s{n}.example" for n in range(MAX_EMBED_ORIGINS + 1))
    with pytest.raises(ValidationError, match=f"At most {MAX_EMBED_ORIGINS} sites"):
        embed_origins_parse(text)


@pytest.mark.django_db
def test_setting_the_sites_stores_them_and_a_refusal_changes_nothing() -> None:
    jam = JamFactory()
    assert jam_embed_origins_set(jam=jam, text="https://news.example.org/") == [
        "https://news.example.org"
    ]
    assert Jam.objects.get(pk=jam.pk).embed_origins == ["https://news.example.org"]
    with pytest.raises(ValidationError):
        jam_embed_origins_set(jam=jam, text="https://other.example\nnot a site")
    assert Jam.objects.get(pk=jam.pk).embed_origins == ["https://news.example.org"]
    assert jam_embed_origins_set(jam=jam, text="") == []
    assert Jam.objects.get(pk=jam.pk).embed_origins == []
