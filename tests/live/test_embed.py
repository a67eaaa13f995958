"""A jam's embed over HTTP: the one page other sites may frame (only those the host
allowed), read-only and session-free, with its options checked; and the host's page that
makes the snippet and sets the sites."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY

from jamhost.jams.embedding import jam_embed_origins_set
from jamhost.jams.lifecycle import jam_end
from jamhost.jams.models import Jam, JamStatus, Role
from jamhost.posts.models import Post
from jamhost.posts.services import post_compose
from jamhost.transcripts.services import jam_archive
from tests.factories import JamFactory, MembershipFactory, QuestionFactory, UserFactory, live_jam

pytestmark = pytest.mark.django_db


def embed_url(jam: Jam, query: str = "") -> str:
    return reverse("live:embed", args=[jam.slug]) + query


def frame_ancestors(response) -> str:  # type: ignore[no-untyped-def]
    policy = response["Content-Security-Policy"]
    found = re.search(r"frame-ancestors ([^;]*)", policy)
    assert found, policy
    assert policy.count("frame-ancestors") == 1
    return found.group(1).strip()


def jam_with_posts() -> tuple[Jam, dict[str, Post]]:
    jam = live_jam(released=1)
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    guest = UserFactory()
    posts = {
        "answer": post_compose(jam=jam, user=panelist, body="Panel answer to Q1"),
        "chatter": post_compose(jam=jam, user=guest, body="Just chatting along"),
        "question": Post.objects.get(jam=jam, kind="question"),
    }
    return jam, posts


def test_only_the_embed_may_be_framed_and_only_by_the_sites_the_host_allowed() -> None:
    jam = live_jam()
    client = Client()
    response = client.get(embed_url(jam))
    assert response.status_code == 200
    # No site allowed: jamhost itself only (the host's preview).
    assert frame_ancestors(response) == "'self'"
    assert "X-Frame-Options" not in response
    jam_embed_origins_set(jam=jam, text="https://news.example.org\nhttp://127.0.0.1:8080")
    response = client.get(embed_url(jam))
    assert frame_ancestors(response) == "'self' https://news.example.org http://127.0.0.1:8080"
    # The rest of the policy is the site's own.
    assert "script-src 'self'" in response["Content-Security-Policy"]
    # Every other page stays unframeable.
    for path in (
        reverse("live:room", args=[jam.slug]),
        reverse("jams:detail", args=[jam.slug]),
        reverse("posts:screen", args=[jam.slug]),
    ):
        other = client.get(path)
        assert other["X-Frame-Options"] == "DENY", path
        assert frame_ancestors(other) == "'none'", path


def test_a_stored_entry_that_is_not_an_origin_never_reaches_the_header() -> None:
    jam = live_jam()
    # Written past jam_embed_origins_set (the shell, a bad migration): left out.
    Jam.objects.filter(pk=jam.pk).update(
        embed_origins=["https://ok.example", "https://x.example; script-src *", "HTTPS://A.B", 7]
    )
    response = Client().get(embed_url(jam))
    assert frame_ancestors(response) == "'self' https://ok.example"
    assert "script-src *" not in response["Content-Security-Policy"]


def test_the_embed_shows_the_live_stream_read_only_without_a_session() -> None:
    jam, posts = jam_with_posts()
    client = Client()
    response = client.get(embed_url(jam))
    html = response.content.decode()
    # The room's live path: the same socket, from the rev the page was rendered at.
    assert f'ws-connect="/ws/jams/{jam.slug}/live/"' in html
    assert f'data-rev="{jam.rev}"' in html or f'data-rev="{Jam.objects.get(pk=jam.pk).rev}"' in html
    assert jam.questions.get(number=1).text in html
    for post in posts.values():
        assert f'id="post-{post.pk}"' in html
    assert "Join the jam" in html and reverse("live:room", args=[jam.slug]) in html
    assert '<base target="_blank">' in html
    # Nothing that needs a session: no form, no token, no cookie set.
    assert "<form" not in html and "csrfmiddlewaretoken" not in html
    assert "X-CSRFToken" not in html
    assert not response.cookies


def test_the_embeds_query_count_does_not_grow_with_posts(
    django_assert_max_num_queries,
) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam()
    user = UserFactory()
    for i in range(30):
        post_compose(jam=jam, user=user, body=f"post {i}")
    client = Client()
    client.get(embed_url(jam))  # the header, rendered once per rev and cached
    with django_assert_max_num_queries(5):  # the fifth: the jam's polls
        response = client.get(embed_url(jam, "?show=all"))
    assert response.content.decode().count('class="post ') == 31


def test_the_embed_of_a_draft_shows_nothing() -> None:
    jam = JamFactory(title="Secret plans")
    QuestionFactory(jam=jam, number=1, text="The unannounced question?")
    jam_embed_origins_set(jam=jam, text="https://news.example.org")
    response = Client().get(embed_url(jam))
    assert response.status_code == 404
    assert b"Secret plans" not in response.content and b"unannounced" not in response.content
    # A 404 is framed nowhere.
    assert frame_ancestors(response) == "'none'"


def test_before_the_jam_the_embed_shows_the_schedule() -> None:
    starts = timezone.now() + timedelta(days=2)
    jam = JamFactory(status=JamStatus.SCHEDULED, starts_at=starts)
    for n in (1, 2, 3):
        QuestionFactory(jam=jam, number=n, offset_minutes=n * 10)
    html = Client().get(embed_url(jam)).content.decode()
    assert 'data-jam-status="scheduled"' in html
    assert starts.strftime("%Y-%m-%d %H:%M") in html
    assert "3 questions" in html
    assert reverse("jams:calendar", args=[jam.slug]) in html
    # The questions themselves stay unreleased.
    assert "What about topic" not in html


def test_after_the_jam_the_embed_links_to_the_replay() -> None:
    jam = live_jam()
    jam_end(jam=jam)
    html = Client().get(embed_url(jam)).content.decode()
    assert "transcript is being archived" in html
    assert reverse("transcripts:replay", args=[jam.slug]) not in html
    jam_archive(jam_id=jam.pk)
    html = Client().get(embed_url(jam)).content.decode()
    assert reverse("transcripts:replay", args=[jam.slug]) in html
    assert "Add to calendar" not in html


@pytest.mark.parametrize(
    ("query", "shown", "not_shown"),
    [
        ("", ["question", "answer", "chatter"], []),
        ("?show=all", ["question", "answer", "chatter"], []),
        ("?show=questions", ["question"], ["answer", "chatter"]),
        ("?show=answers", ["answer"], ["question", "chatter"]),
    ],
)
def test_the_snippet_chooses_which_posts_are_shown(
    query: str, shown: list[str], not_shown: list[str]
) -> None:
    jam, posts = jam_with_posts()
    html = Client().get(embed_url(jam, query)).content.decode()
    for name in shown:
        assert f'id="post-{posts[name].pk}"' in html, name
    for name in not_shown:
        assert f'id="post-{posts[name].pk}"' not in html, name
    # Posts arriving live follow the same choice (static/css/embed.css).
    assert f'data-embed-show="{query.partition("=")[2] or "all"}"' in html


def test_theme_height_and_order_reach_the_page() -> None:
    jam = live_jam()
    html = Client().get(embed_url(jam, "?theme=dark&height=420&order=newest")).content.decode()
    assert 'class="embed-page theme-dark"' in html
    assert '<meta name="color-scheme" content="dark">' in html
    assert 'data-order="newest"' in html and 'data-embed-height="420"' in html


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("?theme=blue", "theme must be one of auto, light, dark; “blue” is not."),
        ("?height=99", "a whole number from 200 to 2000; “99” is not."),
        ("?height=tall", "“tall” is not."),
        ("?height=%EF%BC%95%EF%BC%90%EF%BC%90", "is not."),  # fullwidth digits
        ("?show=everything", "show must be one of all, questions, answers"),
        ("?order=random", "order must be one of oldest, newest"),
    ],
)
def test_a_wrong_option_is_told_in_the_frame(query: str, says: str) -> None:
    jam = live_jam()
    jam_embed_origins_set(jam=jam, text="https://news.example.org")
    response = Client().get(embed_url(jam, query))
    assert response.status_code == 400
    html = response.content.decode()
    assert says in html
    assert "Copy the snippet again" in html
    # Shown where it was pasted: the refusal may be framed by the same sites.
    assert frame_ancestors(response) == "'self' https://news.example.org"


def test_every_wrong_option_is_named_at_once_and_unknown_ones_are_left_alone() -> None:
    jam = live_jam()
    response = Client().get(embed_url(jam, "?theme=x&order=y&utm_source=news"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "theme must be" in html and "order must be" in html
    assert Client().get(embed_url(jam, "?utm_source=news")).status_code == 200


# The host's page -------------------------------------------------------------------


def setup_url(jam: Jam, query: str = "") -> str:
    return reverse("live:embed_setup", args=[jam.slug]) + query


def test_only_the_host_makes_the_snippet_and_sets_the_sites() -> None:
    jam = live_jam()
    moderator = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    for user in (None, UserFactory(), moderator):
        client = Client()
        if user is not None:
            client.force_login(user)
        assert client.get(setup_url(jam)).status_code in (302, 403)
        response = client.post(setup_url(jam), {"origins": "https://evil.example"})
        assert response.status_code in (302, 403)
        assert response.status_code == 403 or "login" in response["Location"]
    assert Jam.objects.get(pk=jam.pk).embed_origins == []


def test_the_host_gets_a_snippet_with_the_options_picked() -> None:
    jam = live_jam(title="Tea & talk")
    client = Client()
    client.force_login(jam.host)
    html = client.get(setup_url(jam, "?theme=light&show=answers&order=newest&height=500"))
    text = html.content.decode()
    assert html.status_code == 200
    assert "No site may show the embed yet" in text
    # The snippet, escaped for the text box: an absolute address with the options.
    src = f"http://testserver/jams/{jam.slug}/embed/?theme=light&amp;amp;height=500"
    assert f"&lt;iframe src=&quot;{src}" in text
    assert "Tea &amp;amp; talk — live on jamhost" in text
    assert "height=&quot;500&quot;" in text and "/static/js/embed.js" in text
    # The preview is the embed itself, framed by jamhost.
    assert f'src="/jams/{jam.slug}/embed/?theme=light&amp;height=500' in text


def test_a_wrong_option_on_the_host_page_is_told_and_the_defaults_stand() -> None:
    jam = live_jam()
    client = Client()
    client.force_login(jam.host)
    text = client.get(setup_url(jam, "?height=5")).content.decode()
    assert "a whole number from 200 to 2000" in text
    assert f"/jams/{jam.slug}/embed/&quot;" in text  # the snippet with no options


def test_the_host_sets_the_sites_and_a_wrong_one_is_a_form_error() -> None:
    jam = live_jam()
    client = Client()
    client.force_login(jam.host)
    response = client.post(setup_url(jam), {"origins": "https://news.example.org/"})
    assert response.status_code == 302
    assert Jam.objects.get(pk=jam.pk).embed_origins == ["https://news.example.org"]
    page = client.get(response["Location"]).content.decode()
    assert "These sites may show the jam: https://news.example.org" in page
    assert "<code>https://news.example.org</code>" in page

    response = client.post(
        setup_url(jam), {"origins": "https://ok.example\nhttps://blog.example/posts/1"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "give the site alone, without a path: https://blog.example" in text
    assert "https://blog.example/posts/1" in text  # what was typed stays in the box
    assert Jam.objects.get(pk=jam.pk).embed_origins == ["https://news.example.org"]


def test_the_jams_pages_link_the_host_to_the_embed() -> None:
    jam = live_jam()
    client = Client()
    client.force_login(jam.host)
    for name in ("jams:edit", "jams:detail"):
        assert setup_url(jam) in client.get(reverse(name, args=[jam.slug])).content.decode()
    assert (
        setup_url(jam) not in Client().get(reverse("jams:detail", args=[jam.slug])).content.decode()
    )


def refused_embeds() -> float:
    return REGISTRY.get_sample_value("jamhost_refused_total", {"reason": "embed_site"}) or 0.0


def test_a_site_not_allowed_framing_the_embed_is_logged_and_counted(caplog) -> None:  # type: ignore[no-untyped-def]
    jam = live_jam()
    jam_embed_origins_set(jam=jam, text="https://news.example.org")
    client = Client()
    before = refused_embeds()
    framed = {"HTTP_SEC_FETCH_DEST": "iframe"}
    with caplog.at_level(logging.INFO, logger="jamhost.live.embed"):
        # The allowed site, jamhost itself, a top-level visit, no Referer: nothing to note.
        client.get(embed_url(jam), HTTP_REFERER="https://news.example.org/story/1", **framed)
        client.get(embed_url(jam), HTTP_REFERER="http://testserver/jams/x/", **framed)
        client.get(embed_url(jam), HTTP_REFERER="https://elsewhere.example/")
        client.get(embed_url(jam), **framed)
        for referer in ("http://[::1", "not an address", "https://user@x.example/", "x:"):
            assert client.get(embed_url(jam), HTTP_REFERER=referer, **framed).status_code == 200
        assert refused_embeds() == before and not caplog.records
        # Another site: the page is still answered (the browser refuses it), and noted.
        response = client.get(
            embed_url(jam), HTTP_REFERER="https://elsewhere.example/a/page?x=1", **framed
        )
    assert response.status_code == 200
    assert refused_embeds() == before + 1
    assert [r.getMessage() for r in caplog.records] == [
        f"the embed of jam {jam.pk} was framed by https://elsewhere.example, "
        "not one of its sites: refused"
    ]
