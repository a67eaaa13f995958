"""X's counting and validity rules (jamhost.networks.x.rules), from X's own reference
cases (twitter-text's conformance files, read at test time): the compose counter, the
refusal of characters X refuses, and the URL detection that prices a post."""

from __future__ import annotations

from typing import Any

import pytest
from twitter_text import parse_tweet
from twitter_text.config import config

from jamhost.networks.x.rules import X_LIMIT, text_has_url, weighted_length, x_refused_characters
from tests.conformance import conformance_cases, present

# The counters X's older clients used (the "tweets" cases are 140 characters, version 1;
# WeightedTweetsCounterTest is version 2, without emoji sequences counted as one).
LEGACY = {
    "tweets": {"emoji_parsing_enabled": False, **config["version1"]},
    "WeightedTweetsCounterTest": {"emoji_parsing_enabled": False, **config["version2"]},
}


@pytest.mark.parametrize(
    "case",
    conformance_cases(
        "validate.yml",
        "WeightedTweetsWithDiscountedEmojiCounterTest",
        "UnicodeDirectionalMarkerCounterTest",
    ),
)
def test_compose_counts_and_validates_as_x_does_today(case: Any) -> None:
    """The rules in force (version 3): jamhost's counter and its validity decision."""
    case = present(case)
    text, expected = case["text"], case["expected"]
    assert weighted_length(text) == expected["weightedLength"]
    valid = 0 < weighted_length(text) <= X_LIMIT and not x_refused_characters(text)
    assert valid == expected["valid"]
    assert parse_tweet(text).asdict() == {**parse_tweet(text).asdict(), **expected}


@pytest.mark.parametrize("case", conformance_cases("validate.yml", "WeightedTweetsCounterTest"))
def test_version_2_counting_matches_x(case: Any) -> None:
    case = present(case)
    result = parse_tweet(case["text"], LEGACY["WeightedTweetsCounterTest"]).asdict()
    assert result == {**result, **case["expected"]}


@pytest.mark.parametrize("case", conformance_cases("validate.yml", "tweets"))
def test_tweet_validity_matches_x(case: Any) -> None:
    case = present(case)
    assert parse_tweet(case["text"], LEGACY["tweets"]).valid == case["expected"]


@pytest.mark.parametrize("case", conformance_cases("extract.yml", "urls"))
def test_a_url_is_found_where_x_finds_one(case: Any) -> None:
    case = present(case)
    assert text_has_url(case["text"]) == bool(case["expected"])


@pytest.mark.parametrize(
    ("text", "has_url"),
    [
        ("read example.museum/jam", True),
        ("see t.co/abc", True),
        ("slides at jamhost.example", False),  # .example is no TLD
        ("slides at jamhost.example.org", True),
        ("v1.2 is out", False),
        ("mail me: a@b.com", False),
        ("https://例え.jp/パス", True),
    ],
)
def test_the_link_price_follows_x_url_extraction(text: str, has_url: bool) -> None:
    assert text_has_url(text) == has_url


def test_characters_x_refuses_are_named() -> None:
    assert x_refused_characters("a\ufeffb\uffffc\ufeff") == ["\ufeff", "\uffff"]
    assert x_refused_characters("fine \u200b\u202e text") == []


@pytest.mark.django_db
def test_posts_questions_and_replies_with_characters_x_refuses_are_refused_before_storing(
    settings: Any,
) -> None:
    from django.core.exceptions import ValidationError

    from jamhost.audience.replies import reply_compose
    from jamhost.jams.run_sheet import question_add
    from jamhost.posts.models import Post
    from jamhost.posts.services import post_compose
    from tests.factories import UserFactory, live_jam

    settings.X_CLIENT_ID = "client"  # the jam runs on X
    jam = live_jam()
    stored = Post.objects.count()
    with pytest.raises(ValidationError) as exc:
        post_compose(jam=jam, user=jam.host, body="pasted\ufeff in")
    assert "U+FEFF" in str(exc.value) and "Remove it" in str(exc.value)
    with pytest.raises(ValidationError, match="U\\+FFFF"):
        reply_compose(
            jam=jam,
            user=UserFactory(),
            parent_id=Post.objects.filter(jam=jam).first().pk,
            body="odd \uffff",
        )
    with pytest.raises(ValidationError, match="U\\+FFFE"):
        question_add(jam=jam, text="Why\ufffe?", offset_minutes=5)
    assert Post.objects.count() == stored
