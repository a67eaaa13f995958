"""Compose rules: the published text and its length exactly as X counts it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet

from jamhost.jams.answers import answer_number
from jamhost.jams.hashtags import text_has_hashtag as has_hashtag
from jamhost.posts.compose import (
    MAX_WEIGHTED_LENGTH,
    compose_text,
    is_blank,
    weighted_length,
)


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
    tag = " #T"
    fits = compose_text(body="x" * (280 - len(tag)), hashtag="T", question_number=None)
    assert fits.length == MAX_WEIGHTED_LENGTH and fits.fits
    over = compose_text(body="x" * (281 - len(tag)), hashtag="T", question_number=None)
    assert over.length == 281 and not over.fits
    cjk = compose_text(body="字" * 138, hashtag="T", question_number=None)
    assert cjk.length == 276 + 3 and cjk.fits


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
