"""Hashtags as X links them: X's own reference cases (read from the conformance files at
test time), the cases that decide whether the compose box appends the jam's tag, and
look-alike tags."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from jamhost.jams.hashtags import hashtag_clean, hashtag_key, hashtags_extract, text_has_hashtag
from tests.conformance import conformance_cases, present


@pytest.mark.parametrize(
    "case", conformance_cases("extract.yml", "hashtags", "hashtags_from_astral")
)
def test_hashtag_extraction_matches_x(case: Any) -> None:
    case = present(case)
    assert [h.tag for h in hashtags_extract(case["text"])] == case["expected"]


@pytest.mark.parametrize("case", conformance_cases("extract.yml", "hashtags_with_indices"))
def test_hashtag_indices_match_x(case: Any) -> None:
    case = present(case)
    found = [
        {"hashtag": h.tag, "indices": [h.start, h.end]} for h in hashtags_extract(case["text"])
    ]
    assert found == case["expected"]


@pytest.mark.parametrize("case", conformance_cases("validate.yml", "hashtags"))
def test_hashtag_validation_matches_x(case: Any) -> None:
    case = present(case)
    if case["expected"]:
        assert hashtag_clean(case["text"]) == case["text"][1:]
    else:
        with pytest.raises(ValidationError):
            hashtag_clean(case["text"])


@pytest.mark.parametrize(
    "text",
    [
        "see https://example.org/#cafe",
        "see example.org/#cafe",
        "#cafe#",
        "#cafe#more",
        "#cafe://x",
        "#cafe·x",
        "#cafe·",
        "#cafe・",
        "#cafe～",
        "#cafe\u200d",
        "#cafe\u200c",
        "#cafe\u0301",
        "#cafe\ufe0f",
        "#cafe_2",
        "&#cafe",
        "x#cafe",
        "#caféteria",
    ],
)
def test_what_is_not_the_tag(text: str) -> None:
    assert not text_has_hashtag(text, "cafe")


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("#cafe", "cafe"),
        ("#CAFE!", "cafe"),
        ("(#cafe)", "cafe"),
        ("A1: yes.#cafe", "cafe"),
        ("a ✌️#cafe here", "cafe"),
        ("＃cafe", "cafe"),
        ("#Café", "cafe\u0301"),
        ("#cafe\u0301", "Café"),
        ("#CAFÉ", "café"),
        ("#महात्मा_१२३४ x", "महात्मा_१२३४"),
    ],
)
def test_what_is_the_tag(text: str, tag: str) -> None:
    assert text_has_hashtag(text, tag)


@pytest.mark.parametrize(
    "tag",
    [
        "महात्मा",  # Devanagari with virama and vowel signs (marks)
        "ผู้เริ่ม",  # Thai
        "עַל־יְדֵי",  # Hebrew with niqqud and maqaf
        "می‌خواهم",  # Persian with ZWNJ
        "བོད་སྐད་",  # Tibetan with tsheg
        "メ～テレ",
        "サッカー・日本",
        "il·lusió",
        "ශ්‍රීලංකා",  # Sinhala with ZWJ
        "1st",
    ],
)
def test_every_tag_x_links_can_be_a_jams_tag(tag: str) -> None:
    assert hashtag_clean(f"#{tag}") == tag


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("_", "cannot be only digits"),
        ("1_2", "cannot be only digits"),
        ("#122", "cannot be only digits"),
        ("〃", "cannot be only digits"),
        ("cafe#", "only contain letters"),
        ("a b", "only contain letters"),
    ],
)
def test_tags_x_does_not_link_are_refused(tag: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        hashtag_clean(tag)
    assert message in " ".join(exc.value.messages)


def test_look_alike_tags_share_one_key() -> None:
    real = hashtag_key("PodcastChat")
    assert hashtag_key("#ＰｏｄｃａｓｔＣｈａｔ") == real  # fullwidth
    assert hashtag_key("Podсast\u0421hat") == real  # Cyrillic es, small and capital
    assert hashtag_key("Pοdcast") == hashtag_key("podcast")  # Greek omicron
    assert hashtag_key("ашок") != real and hashtag_key("ашок") == hashtag_key("АШОК")
    assert hashtag_key("café") == hashtag_key("cafe\u0301") != hashtag_key("cafe")
