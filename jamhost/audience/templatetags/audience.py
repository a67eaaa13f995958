"""Template tags for the audience parts of shared templates, so that the pages that
include them (the post fragment, the big screen) need no change to their views."""

from __future__ import annotations

from django import template

from jamhost.audience.models import FlagReason
from jamhost.audience.selectors import flag_reasons, top_questions
from jamhost.jams.models import Jam
from jamhost.posts.models import Post

register = template.Library()
_LABELS = dict(FlagReason.choices)


@register.simple_tag
def post_flag_reasons(post: Post) -> str:
    """ "spam 2, off-topic 1" for a post's open flags (moderators' fragment only: it is
    rendered once per change, not per screen)."""
    if not post.flags:
        return ""
    return ", ".join(f"{_LABELS.get(r, r).lower()} {n}" for r, n in flag_reasons(post=post))


@register.simple_tag
def jam_top_questions(jam: Jam) -> list[Post]:
    return top_questions(jam=jam)
