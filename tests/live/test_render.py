"""Rendering once per audience: the shortcut that derives the moderators' fragment from
the viewers' must give exactly what the template gives."""

from __future__ import annotations

import pytest

from jamhost.networks.models import XStatus
from jamhost.posts import render
from jamhost.posts.models import Post, PostStatus
from jamhost.posts.render import AUDIENCES, MODERATOR, render_post, render_post_audiences
from jamhost.posts.services import post_compose
from tests.factories import MembershipFactory, UserFactory, live_jam

pytestmark = pytest.mark.django_db


def _post(**changes: object) -> Post:
    jam = live_jam()
    panelist = UserFactory()
    MembershipFactory(jam=jam, user=panelist)
    post = post_compose(jam=jam, user=panelist, body="Is <b>this</b> https://example.com/x ok?")
    Post.objects.filter(pk=post.pk).update(**changes)
    return Post.objects.select_related("question").get(pk=post.pk)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"pinned": True, "featured": True},
        {"status": PostStatus.PENDING, "status_reason": "pre-moderation"},
        {"status": PostStatus.HIDDEN},
        {"flags": 2},
        {"elsewhere": {"x": {"status": XStatus.FAILED, "error": "X refused it"}}},
        {"elsewhere": {"x": {"status": XStatus.QUEUED}}},
        {"elsewhere": {"bluesky": {"status": "failed", "error": "Too long"}}},
        {"author_role": "participant", "upvotes": 3},
    ],
)
def test_every_audience_gets_what_the_template_renders_for_it(changes: dict) -> None:
    post = _post(**changes)
    shortcut = render_post_audiences(post)
    render._cache.clear()
    assert shortcut == {audience: render_post(post, audience) for audience in AUDIENCES}
    assert "post-mod" in shortcut[MODERATOR]
