from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jamhost.jams.hashtags import hashtag_clean, hashtag_key


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("PodcastChat", "PodcastChat"),
        ("#PodcastChat", "PodcastChat"),
        ("  #tag_1  ", "tag_1"),
        ("2024Jam", "2024Jam"),
        ("café", "café"),
        ("महात्मा", "महात्मा"),
        ("a" * 100, "a" * 100),
    ],
)
def test_valid_hashtags_are_kept_without_the_hash(typed: str, kept: str) -> None:
    assert hashtag_clean(typed) == kept


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a hashtag"),
        ("   ", "Enter a hashtag"),
        ("#", "Enter a hashtag"),
        ("2024", "cannot be only digits"),
        ("#123", "cannot be only digits"),
        ("_", "cannot be only digits"),
        ("#1_2", "cannot be only digits"),
        ("a" * 101, "at most 100 characters; this one has 101"),
        ("#" + "b" * 5000, "this one has 5000"),
        ("two words", "only contain letters, digits and underscores"),
        ("tag!", "only contain letters"),
        ("##tag", "only contain letters"),
        ("tag#two", "only contain letters"),
        ("tag-dash", "only contain letters"),
    ],
)
def test_invalid_hashtags_say_what_is_wrong(typed: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        hashtag_clean(typed)
    assert message in " ".join(exc.value.messages)


def test_tags_compare_case_insensitively_without_the_hash() -> None:
    assert hashtag_key("#PodcastChat") == hashtag_key("podcastchat") == "podcastchat"
