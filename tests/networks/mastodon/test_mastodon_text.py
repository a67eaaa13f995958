"""networks.mastodon.text: status HTML to the text its author wrote, and Mastodon's
length rule."""

from __future__ import annotations

import pytest

from jamhost.networks.mastodon.text import html_links, html_to_text, mastodon_length, rules_for
from jamhost.networks.remote import TextRules
from testservers.mastodon.wire import status_html

LONG_LINK = (
    '<a href="https://www.theguardian.com/money/2019/dec/07/i-lost-my-inheritance" '
    'rel="nofollow noopener noreferrer" target="_blank"><span class="invisible">https://www.'
    '</span><span class="ellipsis">theguardian.com/money/2019/dec</span><span class="invisible">'
    "/07/i-lost-my-inheritance</span></a>"
)


def test_documented_example_becomes_its_text() -> None:
    content = f"<p>&quot;I lost my inheritance with one wrong digit&quot;</p><p>{LONG_LINK}</p>"
    assert html_to_text(content) == (
        '"I lost my inheritance with one wrong digit"\n\n'
        "https://www.theguardian.com/money/2019/dec/07/i-lost-my-inheritance"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Hello #Jam",
        'Tom & Jerry\'s <b>bold</b> "quotes"',
        "first line\nsecond line\n\nnew paragraph",
        "ask @bob: see https://example.com/a/really/long/path/to/a/page?x=1&y=2",
        "emoji 🎉 and accents café",
    ],
)
def test_text_survives_mastodons_rendering(text: str) -> None:
    assert html_to_text(status_html(text, "https://m.example", "m.example")) == text


def test_a_remote_mention_reads_as_mastodon_shows_it() -> None:
    # Mastodon links @carol@far.example as "@carol" (the account is in status.mentions).
    content = status_html("hi @carol@far.example", "https://m.example", "m.example")
    assert 'href="https://far.example/@carol"' in content
    assert html_to_text(content) == "hi @carol"


def test_links_show_their_text_unless_mastodon_shortened_them() -> None:
    tag = '<a href="https://m.example/tags/jam" class="mention hashtag">#<span>jam</span></a>'
    bob = '<a href="https://m.example/@bob" class="u-url mention">@<span>bob</span></a>'
    content = (
        f'<p><a href="https://example.com/x">example.com/x</a> {tag} '
        f'<span class="h-card">{bob}</span> '
        f'{LONG_LINK} <a href="javascript:alert(1)"><span class="invisible">x</span>shown</a></p>'
    )
    assert html_to_text(content) == (
        "example.com/x #jam @bob "
        "https://www.theguardian.com/money/2019/dec/07/i-lost-my-inheritance xshown"
    )
    assert html_links(content) == [
        "https://example.com/x",
        "https://www.theguardian.com/money/2019/dec/07/i-lost-my-inheritance",
    ]


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("<p>hi<script>alert('x')</script> there</p>", "hi there"),
        ("<p>a<style>p{color:red}</style>b</p>", "ab"),
        ('<p onclick="evil()"><img src=x onerror=alert(1)>safe</p>', "safe"),
        ("<p><b><i><u>deep</u></i></b> text</p>", "deep text"),
        ("<p>unclosed <b>tag", "unclosed tag"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        ("<p>one</p><p></p><p>two</p>", "one\n\ntwo"),
        ("<p>a<br>b<br/>c</p>", "a\nb\nc"),
        ("<svg><script>alert(1)</script><text>x</text></svg>after", "after"),
        ("", ""),
        ("<<<>>>&&&", "<<<>>>&&&"),
        ("<p>&amp;amp; &#x1F389; &nbsp;</p>", "&amp; 🎉 \xa0"),
    ],
)
def test_hostile_html_leaves_only_text(content: str, text: str) -> None:
    assert html_to_text(content) == text


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello", 5),
        ("https://example.com/" + "x" * 200, 23),
        ("see https://a.com and https://b.org/long/path", 4 + 23 + 5 + 23),
        ("@bob@mastodon.social hi", len("@bob hi")),
        ("@bob hi", 7),
        ("example.org without a scheme", 28),
        ("👩‍👩‍👧 family", 8),  # one grapheme
        ("e\u0301", 1),
    ],
)
def test_mastodon_length(text: str, length: int) -> None:
    assert mastodon_length(text) == length


def test_length_uses_the_instances_url_weight() -> None:
    assert mastodon_length("https://example.com/page", url_weight=10) == 10


def test_rules_for_an_instance() -> None:
    assert rules_for(5000, 23) == TextRules(limit=5000, counts="characters, links count 23")
