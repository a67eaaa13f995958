"""Bluesky's length (graphemes) and facets at UTF-8 byte offsets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jamhost.networks.bluesky.text import BLUESKY_RULES, bluesky_fits, bluesky_length, facets

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one grapheme, 18 bytes
FLAG = "\U0001f1eb\U0001f1f7"  # two code points, one grapheme


def spans(text: str, found: list[dict]) -> list[str]:
    """What each facet covers, cut out of the UTF-8 bytes as Bluesky's app cuts it."""
    raw = text.encode()
    return [raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in found]


def no_one(handle: str) -> str | None:
    return None


def test_rules_say_300_graphemes():
    assert BLUESKY_RULES.limit == 300
    assert BLUESKY_RULES.counts == "graphemes"


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("", 0),
        ("hello", 5),
        ("e\u0301", 1),  # e + combining acute: one grapheme, two code points
        ("café", 4),
        (FAMILY, 1),
        (FLAG * 3, 3),
        ("👍🏽 ok", 4),  # skin tone modifier joins its emoji
    ],
)
def test_length_counts_graphemes(text, length):
    assert bluesky_length(text) == length


def test_300_family_emoji_are_300_graphemes_but_too_many_bytes():
    text = FAMILY * 300
    assert bluesky_length(text) == 300
    assert len(text.encode()) == 5400
    assert not bluesky_fits(text)  # the lexicon's 3000 bytes
    assert bluesky_fits(FAMILY * 166)
    assert bluesky_fits("é" * 300)
    assert not bluesky_fits("é" * 301)


def test_tag_after_accents_and_emoji_is_at_its_byte_offset():
    text = f"Café {FAMILY} crème #JamSession ok"
    found = facets(text, resolve=no_one)
    assert spans(text, found) == ["#JamSession"]
    assert found[0]["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "JamSession"}]
    assert found[0]["index"]["byteStart"] == len(f"Café {FAMILY} crème ".encode())
    assert found[0]["index"]["byteStart"] != len(f"Café {FAMILY} crème ")  # not characters


def test_tags_lose_trailing_punctuation_and_digits_alone_are_no_tag():
    text = "#jam! and #2024 and #été2026, #a#b"
    found = facets(text, resolve=no_one)
    assert [f["features"][0]["tag"] for f in found] == ["jam", "été2026", "a#b"]
    assert spans(text, found) == ["#jam", "#été2026", "#a#b"]


def test_a_hash_inside_a_word_or_link_is_no_tag():
    text = "C# and https://example.com/#anchor"
    found = facets(text, resolve=no_one)
    assert [f["features"][0]["$type"] for f in found] == ["app.bsky.richtext.facet#link"]


def test_mentions_resolve_to_dids_and_unknown_handles_get_no_facet():
    asked = []

    def resolve(handle: str) -> str | None:
        asked.append(handle)
        return "did:plc:bob" if handle == "bob.bsky.social" else None

    text = "🎉 thanks @Bob.bsky.social and @nobody.example, mail me@host.example"
    found = facets(text, resolve=resolve)
    assert spans(text, found) == ["@Bob.bsky.social"]
    assert found[0]["features"] == [
        {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob"}
    ]
    assert asked == ["bob.bsky.social", "nobody.example"]  # an e-mail address is no mention


def test_a_word_without_a_dot_is_no_handle():
    assert facets("@everyone hi", resolve=lambda h: "did:plc:x") == []


def test_links_stop_before_trailing_punctuation_and_a_closing_parenthesis():
    text = "Voilà (see https://example.com/ü?q=1). And http://a.example/b_(c)!"
    found = facets(text, resolve=no_one)
    assert spans(text, found) == ["https://example.com/ü?q=1", "http://a.example/b_(c)"]
    assert [f["features"][0]["uri"] for f in found] == spans(text, found)


def test_facets_come_in_text_order():
    text = "#one https://x.example @al.example #two"
    found = facets(text, resolve=lambda h: "did:plc:al")
    assert spans(text, found) == ["#one", "https://x.example", "@al.example", "#two"]


def test_a_tag_longer_than_64_graphemes_gets_no_facet():
    assert facets("#" + "a" * 65, resolve=no_one) == []
    assert len(facets("#" + "a" * 64, resolve=no_one)) == 1


WORDS = st.sampled_from(
    [
        *("jam", "café", "naïve", FAMILY, FLAG, "e\u0301", "日本語", "🎉"),
        *("#Jam", "#été", "#日本", "#1", "#tag!", "a#b", "@al.test"),
        *("https://x.example/ü", "(https://y.example)"),
    ]
)


@given(st.lists(WORDS, max_size=12), st.sampled_from([" ", "\n", "  "]))
def test_every_facet_covers_exactly_its_text_in_utf8_bytes(words, space):
    text = space.join(words)
    found = facets(text, resolve=lambda handle: "did:plc:al")
    raw = text.encode()
    starts = [f["index"]["byteStart"] for f in found]
    assert starts == sorted(starts)
    for facet, covered in zip(found, spans(text, found), strict=True):
        assert facet["index"]["byteEnd"] <= len(raw)
        feature = facet["features"][0]
        if feature["$type"].endswith("#tag"):
            assert covered == "#" + feature["tag"]
        elif feature["$type"].endswith("#link"):
            assert covered == feature["uri"]
        else:
            assert covered == "@al.test"
    tags = [f["features"][0]["tag"] for f in found if f["features"][0]["$type"].endswith("#tag")]
    expected = [w.rstrip("!")[1:] for w in words if w.startswith("#") and w != "#1"]
    assert tags == expected


def test_bare_domains_become_links_as_the_app_makes_them():
    text = "Read jamhost.org/docs, (see example.com). Not e.g. this, v2.0, Example.COM or x.example"
    found = facets(text, resolve=no_one)
    assert spans(text, found) == ["jamhost.org/docs", "example.com"]
    assert [f["features"][0]["uri"] for f in found] == [
        "https://jamhost.org/docs",
        "https://example.com",
    ]
    # Not inside a mention, a tag or an address.
    found = facets("@al.example #site.com me@example.com", resolve=no_one)
    assert [f["features"][0]["$type"] for f in found] == ["app.bsky.richtext.facet#tag"]
