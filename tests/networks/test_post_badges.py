"""Where a post came from and where it went, on the post fragment shown in the room,
console, big screen, embed and replay (templates/networks/_post_network.html)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from jamhost.audience.selectors import people_to_follow
from jamhost.networks.models import XStatus
from jamhost.posts import render
from jamhost.posts.models import AuthorRole, Post, Source
from jamhost.posts.render import MODERATOR, VIEWER, render_post
from jamhost.posts.services import post_insert
from tests.factories import UserFactory, live_jam

pytestmark = pytest.mark.django_db

SKY_POST = "https://bsky.app/profile/alice.bsky.social/post/3kabc"
SKY_PROFILE = "https://bsky.app/profile/alice.bsky.social"


def network_post(jam: Any, source: str, handle: str, **links: str) -> Post:
    post = post_insert(
        jam=jam,
        author_key=f"{source}:{handle}",
        author_handle=handle,
        author_name=handle.split(".")[0].title(),
        author_role=AuthorRole.PARTICIPANT,
        body="Hello from elsewhere",
        text=f"Hello from elsewhere #{jam.hashtag}",
        source=source,
        external_id=f"id-{handle}",
    )
    Post.objects.filter(pk=post.pk).update(**links)
    return Post.objects.get(pk=post.pk)


def test_bluesky_post_has_badge_original_and_profile_links():  # type: ignore[no-untyped-def]
    jam = live_jam()
    post = network_post(
        jam, Source.BLUESKY, "alice.bsky.social", remote_url=SKY_POST, author_url=SKY_PROFILE
    )
    html = render_post(post, VIEWER)
    assert '<span class="net-badge net-bluesky">Bluesky</span>' in html
    assert f'<a class="net-origin" href="{SKY_POST}" rel="noopener noreferrer"' in html
    assert f'<a class="handle" href="{SKY_PROFILE}"' in html
    assert "Local only" not in html


def test_mastodon_post_and_x_post_badges():  # type: ignore[no-untyped-def]
    jam = live_jam()
    toot = network_post(
        jam,
        Source.MASTODON,
        "bob@mastodon.example",
        remote_url="https://mastodon.example/@bob/1",
        author_url="https://mastodon.example/@bob",
    )
    html = render_post(toot, VIEWER)
    assert '<span class="net-badge net-mastodon">Mastodon</span>' in html
    assert 'href="https://mastodon.example/@bob/1"' in html
    assert '<a class="handle" href="https://mastodon.example/@bob"' in html
    tweet = network_post(jam, Source.X, "xperson")
    Post.objects.filter(pk=tweet.pk).update(external_id="1790000000000000001")
    html = render_post(Post.objects.get(pk=tweet.pk), VIEWER)
    assert '<span class="net-badge net-x">X</span>' in html
    assert 'href="https://x.com/i/web/status/1790000000000000001"' in html
    assert '<a class="handle" href="https://x.com/xperson"' in html


@pytest.mark.parametrize(
    "bad",
    ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "//evil.example/x"],
)
def test_only_web_addresses_become_links(bad):  # type: ignore[no-untyped-def]
    jam = live_jam()
    post = network_post(jam, Source.BLUESKY, "eve.bsky.social")
    # Written past the model's validation, as a bad row from a network could be.
    Post.objects.filter(pk=post.pk).update(
        remote_url=bad,
        author_url=bad,
        elsewhere={"mastodon": {"status": "published", "url": bad}},
    )
    html = render_post(Post.objects.get(pk=post.pk), VIEWER)
    assert "javascript:" not in html and "data:text" not in html and "evil.example" not in html
    assert "<small>From Bluesky</small>" in html
    assert '<bdi class="handle">@eve.bsky.social</bdi>' in html


def test_jamhost_post_shows_where_it_went():  # type: ignore[no-untyped-def]
    jam = live_jam()
    user = UserFactory(username="ann")
    post = post_insert(
        jam=jam,
        author=user,
        author_role=AuthorRole.PARTICIPANT,
        body="Everywhere",
        text=f"Everywhere #{jam.hashtag}",
    )
    Post.objects.filter(pk=post.pk).update(
        elsewhere={
            "x": {
                "status": XStatus.PUBLISHED,
                "url": "https://x.com/i/web/status/1790000000000000009",
            },
            "bluesky": {"status": "published", "url": SKY_POST},
            "mastodon:https://mastodon.example": {
                "status": "failed",
                "error": "Too long: 612 > 500",
            },
            "mastodon:https://other.example": {"status": "queued"},
            "mastodon:https://third.example": {"status": "held"},
            "myspace": {"status": "published", "url": "https://myspace.example/1"},
            "bogus": "not a dict",
        }
    )
    html = render_post(Post.objects.get(pk=post.pk), MODERATOR)
    assert 'href="https://x.com/i/web/status/1790000000000000009"' in html
    assert "Published on X" in html
    assert f'<a href="{SKY_POST}" rel="noopener noreferrer" target="_blank">On Bluesky</a>' in html
    assert (
        '<span class="net-chip net-mastodon chip-failed" title="Too long: 612 &gt; 500">'
        "Not on Mastodon (mastodon.example): Too long: 612 &gt; 500</span>"
    ) in html
    assert "Queued for Mastodon (other.example)" in html
    assert "Goes to Mastodon (third.example) once approved" in html
    assert "myspace" not in html


def test_local_post_says_local_only_until_it_goes_elsewhere():  # type: ignore[no-untyped-def]
    jam = live_jam()
    post = post_insert(
        jam=jam,
        author=jam.host,
        author_role=AuthorRole.HOST,
        body="Hi",
        text=f"Hi #{jam.hashtag}",
    )
    assert "Local only" in render_post(post, VIEWER)
    Post.objects.filter(pk=post.pk).update(elsewhere={"bluesky": {"status": "queued"}})
    render._cache.clear()  # the fragment cache keys on rev, which this update left alone
    html = render_post(Post.objects.get(pk=post.pk), VIEWER)
    assert "Local only" not in html and "Queued for Bluesky" in html


def test_room_page_shows_the_badges(client):  # type: ignore[no-untyped-def]
    jam = live_jam()
    network_post(jam, Source.BLUESKY, "alice.bsky.social", remote_url=SKY_POST)
    page = client.get(reverse("live:room", args=[jam.slug])).content.decode()
    assert '<span class="net-badge net-bluesky">Bluesky</span>' in page
    assert f'href="{SKY_POST}"' in page


def test_people_to_follow_link_each_profile_on_its_network(client):  # type: ignore[no-untyped-def]
    jam = live_jam()
    network_post(jam, Source.BLUESKY, "alice.bsky.social", author_url=SKY_PROFILE)
    network_post(jam, Source.MASTODON, "eve@evil.example", author_url="javascript:alert(1)")
    people = {p.handle: p for p in people_to_follow(jam=jam)}
    assert people["alice.bsky.social"].profile_url == SKY_PROFILE
    assert people["alice.bsky.social"].source == Source.BLUESKY
    # Not a web address: their page in this jam instead.
    assert people["eve@evil.example"].profile_url.startswith(f"/jams/{jam.slug}/")
    page = client.get(reverse("audience:people", args=[jam.slug])).content.decode()
    assert f'<a href="{SKY_PROFILE}" rel="noopener" target="_blank">' in page
    assert "· on Bluesky" in page and "javascript:" not in page
