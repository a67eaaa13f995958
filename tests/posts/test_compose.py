"""Compose rules: the published text, and its length as each network rule counts it (the
limit that binds)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet

from jamhost.jams.answers import answer_number
from jamhost.jams.hashtags import text_has_hashtag as has_hashtag
from jamhost.networks.bluesky.text import bluesky_rule
from jamhost.networks.mastodon.text import mastodon_rule
from jamhost.networks.x.rules import X_LIMIT, weighted_length, x_rule
from jamhost.posts.compose import LOCAL_LIMIT, compose_text, is_blank


@pytest.mark.parametrize(
    "text",
    ["Great point #RemoteJam", "great point #remotejam!", "#REMOTEJAM first", "(#RemoteJam)"],
)
def test_hashtag_found_in_any_case(text: str) -> None:
    assert has_hashtag(text, "RemoteJam")


@pytest.mark.parametrize(
    "text", ["#RemoteJam2 is another tag", "no tag here", "email@RemoteJam", "##RemoteJamX"]
)
def test_hashtag_not_found_inside_other_words(text: str) -> None:
    assert not has_hashtag(text, "RemoteJam")


@pytest.mark.parametrize(
    "body",
    [
        "menu at https://example.org/#Cafe",
        "#Cafe・",
        "#Cafe～ya",
        "#Cafe·x",
        "#Cafe\u200d",
        "#Cafe\u0301",
        "#Cafe\ufe0f",
        "#Cafe#two",
        "#Cafe://",
    ],
)
def test_the_tag_is_appended_when_x_would_not_link_it(body: str) -> None:
    composed = compose_text(body=body, hashtag="Cafe", question_number=None)
    assert composed.text == f"{body} #Cafe"


@pytest.mark.parametrize(
    ("body", "tag"), [("#café ok", "cafe\u0301"), ("#CAFE\u0301 ok", "Café"), ("＃cafe", "cafe")]
)
def test_the_tag_is_not_doubled_in_another_case_or_normalization(body: str, tag: str) -> None:
    assert compose_text(body=body, hashtag=tag, question_number=None).text == body


def test_hashtag_appended_once_and_prefix_added() -> None:
    composed = compose_text(body="Deep work first", hashtag="RemoteJam", question_number=3)
    assert composed.text == "A3: Deep work first #RemoteJam"
    assert composed.question_number == 3
    again = compose_text(body="Deep work #remotejam first", hashtag="RemoteJam", question_number=3)
    assert again.text == "A3: Deep work #remotejam first"


def test_no_prefix_when_no_question_chosen() -> None:
    composed = compose_text(body="Hello all", hashtag="RemoteJam", question_number=None)
    assert composed.text == "Hello all #RemoteJam"
    assert composed.question_number is None


@pytest.mark.parametrize(
    ("body", "number"),
    [
        ("A3: yes", 3),
        ("a3- yes", 3),
        ("A12 yes", 12),
        ("A3. yes", 3),
        ("A3) yes", 3),
        ("A 3: yes", 3),
        ("@host A3: yes", 3),
    ],
)
def test_written_prefix_names_the_question_and_is_not_doubled(body: str, number: int) -> None:
    assert answer_number(body) == number
    composed = compose_text(body=body, hashtag="T", question_number=1)
    assert composed.question_number == number
    assert composed.text.startswith(body)


def test_weighted_length_counts_urls_cjk_and_emoji_as_x_does() -> None:
    assert weighted_length("a" * 10) == 10
    assert weighted_length("https://example.com/a/very/long/path/that/goes/on/and/on") == 23
    assert weighted_length("日本語") == 6
    assert weighted_length("😀") == 2
    assert weighted_length("👩‍👩‍👧‍👦") == 2  # one emoji sequence
    assert weighted_length("é") == 1  # e + combining acute, normalized to one character


def test_exactly_280_fits_and_281_does_not() -> None:
    tag, rules = " #T", [x_rule("T")]
    fits = compose_text(body="x" * (280 - len(tag)), hashtag="T", question_number=None, rules=rules)
    assert fits.length == X_LIMIT and fits.fits and fits.refusal() == ""
    over = compose_text(body="x" * (281 - len(tag)), hashtag="T", question_number=None, rules=rules)
    assert over.length == 281 and not over.fits
    assert over.refusal() == (
        "This post is 281 characters as X counts them, over the limit of 280. Shorten it by 1."
    )
    cjk = compose_text(body="字" * 138, hashtag="T", question_number=None, rules=rules)
    assert cjk.length == 276 + 3 and cjk.fits


def test_without_rules_the_local_limit_counts_characters() -> None:
    fits = compose_text(body="字" * (LOCAL_LIMIT - 3), hashtag="T", question_number=None)
    assert fits.length == LOCAL_LIMIT and fits.fits and fits.binding.rule.network == "local"
    over = compose_text(body="字" * (LOCAL_LIMIT - 2), hashtag="T", question_number=None)
    assert over.refusal() == (
        "Your post is 501 characters as jamhost counts them, over its limit of 500. "
        "Shorten it by 1."
    )


def test_the_rule_with_least_room_binds_and_a_text_over_every_rule_is_refused() -> None:
    rules = [
        bluesky_rule("T"),
        mastodon_rule(label="Mastodon (m.example)", hashtag="T", max_characters=100, url_weight=23),
    ]
    # A link counts 23 on the instance, every character of it on Bluesky.
    link = "https://example.com/" + "p" * 60
    composed = compose_text(
        body=f"{'x' * 40} {link}", hashtag="T", question_number=None, rules=rules
    )
    assert [c.length for c in composed.counts] == [40 + 1 + 80 + 3, 40 + 1 + 23 + 3]
    # 176 left on Bluesky, 33 on the instance: its limit binds.
    assert composed.binding.rule.network == "mastodon" and composed.remaining == 33
    assert composed.fits
    # Over the instance's limit only: posted, and it goes to Bluesky alone.
    over = compose_text(body="x" * 120, hashtag="T", question_number=None, rules=rules)
    assert over.binding.rule.label == "Mastodon (m.example)"
    assert over.fits and not over.fits_everywhere and over.refusal() == ""
    assert [c.rule.network for c in over.too_long_for] == ["mastodon"]
    # Over both: refused, naming the network with the most room (the least to cut).
    nowhere = compose_text(body="x" * 310, hashtag="T", question_number=None, rules=rules)
    assert not nowhere.fits
    assert nowhere.refusal() == (
        "Your post is 313 graphemes as Bluesky counts them, over its limit of 300. "
        "Shorten it by 13."
    )


def test_each_network_counts_the_text_with_its_own_hashtag() -> None:
    rules = [x_rule("T"), bluesky_rule("AMuchMuchLongerSkyTagHere")]
    composed = compose_text(body="x" * 260, hashtag="T", question_number=2, rules=rules)
    assert composed.text == "A2: " + "x" * 260 + " #T"
    sky = composed.counts[1]
    assert sky.text == "A2: " + "x" * 260 + " #AMuchMuchLongerSkyTagHere" and sky.length == 291
    assert composed.counts[0].length == 267  # 13 left on X, 9 on Bluesky
    assert composed.binding is sky and composed.fits
    # 280 x's: 287 on X (over), 311 on Bluesky (over): refused, X has the most room.
    refused = compose_text(body="x" * 280, hashtag="T", question_number=2, rules=rules)
    assert "as X counts them" in refused.refusal()


def test_bluesky_refuses_over_3000_bytes_even_within_300_graphemes() -> None:
    family = "👨‍👩‍👧‍👦"  # one grapheme, 25 bytes
    composed = compose_text(
        body=family * 130, hashtag="T", question_number=None, rules=[bluesky_rule("T")]
    )
    assert composed.fits  # 133 graphemes
    refused = composed.refusal()
    assert refused.startswith(
        "Your post is 3253 bytes as Bluesky stores it, over its limit of 3000"
    )


@pytest.mark.parametrize("body", ["", "   ", "\n\t", "\u200b\u200e", "\x00\x01\x1f"])
def test_blank_bodies(body: str) -> None:
    assert is_blank(body)


def test_text_is_not_blank() -> None:
    assert not is_blank(" a ")


# weighted_length counts ASCII text without twitter-text's emoji scan (most of its cost):
# it must give exactly parse_tweet's count, URLs and line endings included.
_ASCII_PIECES = [
    "http://", "https://", "www.", "example.com", "t.co/abc", "a.b", ".", "..", "\r\n", "\r",
    "\n", " ", "bar.org/path?x=1", "#tag", "@user", "1.2.3.4", "x" * 30, "-", "A3: ", "#1",
    "*", "(c)", "https://example.com/a/very/long/path/that/goes/on/and/on",
]  # fmt: skip


@given(
    st.lists(st.sampled_from(_ASCII_PIECES) | st.characters(max_codepoint=127), max_size=60).map(
        "".join
    )
)
@settings(max_examples=400, deadline=None)
def test_weighted_length_of_ascii_text_is_twitter_texts(text: str) -> None:
    assert weighted_length(text) == parse_tweet(text).weightedLength
