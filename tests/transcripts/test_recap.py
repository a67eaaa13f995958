"""The recap: featured or most upvoted answers per question, top audience questions with
their answers, contributors thanked (new faces marked), numbers; Markdown and HTML that
show hostile text as text; the host's thank-you post through the compose path, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from markdown_it import MarkdownIt

from jamhost.jams.models import Jam, JamStatus
from jamhost.posts.models import AuthorRole, Kind, Post
from jamhost.posts.services import post_insert
from jamhost.transcripts.recap import (
    recap_build,
    recap_html,
    recap_markdown,
    recap_thank_you_publish,
)
from tests.factories import JamFactory, UserFactory, live_jam

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script> **bold** [x](javascript:alert(1)) <img src=x onerror=alert(1)>"


def _by_handle(jam: Jam, prefix: str) -> Any:
    return Post.objects.filter(jam=jam, author_handle__startswith=prefix).first().author  # type: ignore[union-attr]


def test_questions_audience_contributors_and_numbers(ended_jam: Jam) -> None:
    jam = ended_jam
    pat = _by_handle(jam, "pat_")
    earlier = JamFactory(starts_at=jam.starts_at - timedelta(days=7), status=JamStatus.ENDED)
    post_insert(jam=earlier, author=pat, author_role=AuthorRole.PANELIST, body="hi", text="hi")
    gus = _by_handle(jam, "gus_")
    question = post_insert(
        jam=jam,
        author=gus,
        author_role=AuthorRole.PARTICIPANT,
        body="Is it recorded?",
        text="Is it recorded? #RemoteJam",
    )
    Post.objects.filter(pk=question.pk).update(upvotes=4)
    post_insert(
        jam=jam,
        author=pat,
        author_role=AuthorRole.PANELIST,
        body="Yes",
        text="Yes #RemoteJam",
        reply_to=question,
    )
    recap = recap_build(jam=jam, url="https://jams.example.org/jams/x/recap/")
    q1, q2 = recap.questions  # Q3 was never released
    assert q1.featured and [a.body for a in q1.answers] == [
        "A1: A walk, then email, then https://example.com/notes"
    ]
    assert not q2.featured and [a.author.first_name for a in q2.answers] == ["Priya"]
    top = recap.audience[0]
    assert top.post.pk == question.pk and [a.body for a in top.answers] == ["Yes"]
    # Hidden, pending and the host's question posts are not counted.
    assert recap.posts == 8 and recap.people == 4
    assert dict(recap.networks) == {"jamhost": 7, "X": 1}
    faces = {c.handle: c.new_face for c in recap.contributors}
    assert faces[pat.username] is False and faces[gus.username] is True
    assert faces["xperson"] is True
    assert recap.contributors[0].handle == gus.username  # most posts first


def test_guests_are_marked_and_deleted_accounts_not_named(db: Any) -> None:
    jam = live_jam()
    post_insert(
        jam=jam,
        author_key="guest:7",
        author_handle="guest7",
        author_name="Rae",
        author_role=AuthorRole.PARTICIPANT,
        body="Hello",
        text="Hello",
    )
    post_insert(
        jam=jam,
        author_key="deleted:99",
        author_handle="deleted",
        author_name="",
        author_role=AuthorRole.PARTICIPANT,
        body="gone",
        text="gone",
    )
    recap = recap_build(jam=jam, url="https://jams.example.org/r/")
    assert [(c.name, c.handle, c.guest) for c in recap.contributors] == [("Rae", "", True)]
    assert "**Rae** (guest)" in recap_markdown(recap)
    assert 'class="badge guest"' in recap_html(recap)


def test_hostile_text_stays_text_in_markdown_and_html(ended_jam: Jam) -> None:
    gus = _by_handle(ended_jam, "gus_")
    q1 = ended_jam.questions.get(number=1)
    evil = post_insert(
        jam=ended_jam,
        author=gus,
        author_role=AuthorRole.PARTICIPANT,
        body=HOSTILE,
        text=HOSTILE,
        question=q1,
    )
    Post.objects.filter(pk=evil.pk).update(featured=True)
    UserFactory._meta.model.objects.filter(pk=gus.pk).update(first_name="<b>Gus</b>")
    recap = recap_build(jam=ended_jam, url="https://jams.example.org/jams/x/recap/")
    markdown = recap_markdown(recap)
    html_of_md = MarkdownIt("commonmark").render(markdown)
    assert "<script" not in html_of_md and "<img" not in html_of_md
    assert "javascript:" not in html_of_md.replace("javascript:alert(1))", "")  # as text only
    assert 'href="javascript' not in html_of_md and "<strong>bold</strong>" not in html_of_md
    page = recap_html(recap)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_thank_you_post_goes_through_compose_once(ended_jam: Jam) -> None:
    jam = ended_jam
    url = "https://jams.example.org/jams/remote/recap/"
    recap = recap_build(jam=jam, url=url)
    with pytest.raises(PermissionDenied):
        recap_thank_you_publish(jam=jam, actor=UserFactory(), recap=recap)
    post = recap_thank_you_publish(jam=jam, actor=jam.host, recap=recap)
    again = recap_thank_you_publish(jam=jam, actor=jam.host, recap=recap)
    assert post.pk == again.pk and post.author == jam.host and post.kind == Kind.POST
    assert post.text.startswith("Thank you to everyone who joined Remote Work Jam: 6 posts")
    assert url in post.text and post.text.endswith("#RemoteJam")
    assert post.author_role == AuthorRole.HOST and post.question is None
    Jam.objects.filter(pk=jam.pk).update(status=JamStatus.ARCHIVED, archived_at=jam.ended_at)
    jam.refresh_from_db()
    recap_thank_you_publish(jam=jam, actor=jam.host)
    jam.refresh_from_db()
    assert jam.transcript_outdated  # the archive sweep takes the new post in
    live = live_jam()
    with pytest.raises(ValidationError, match="after the jam has ended"):
        recap_thank_you_publish(jam=live, actor=live.host)


def test_recap_pages_and_downloads(client: Any, ended_jam: Jam) -> None:
    page = reverse("transcripts:recap", args=[ended_jam.slug])
    answer = client.get(page)
    assert answer.status_code == 200 and "Thank you" in answer.text
    assert "Publish the thank-you post" not in answer.text
    md = client.get(reverse("transcripts:recap_download", args=[ended_jam.slug, "md"]))
    assert (
        md["Content-Type"].startswith("text/markdown") and "attachment" in md["Content-Disposition"]
    )
    assert b"## Q1: What does a great day look like?" in md.content
    html = client.get(reverse("transcripts:recap_download", args=[ended_jam.slug, "html"]))
    assert html.status_code == 200 and b"<h2>Q2: Which tool saved you time?</h2>" in html.content
    assert client.get(f"/jams/{ended_jam.slug}/recap.pdf").status_code == 404
    live = live_jam()
    assert client.get(reverse("transcripts:recap", args=[live.slug])).status_code == 404
    thank = reverse("transcripts:recap_thank_you", args=[ended_jam.slug])
    client.force_login(UserFactory())
    assert client.post(thank).status_code == 403
    client.force_login(ended_jam.host)
    assert "Publish the thank-you post" in client.get(page).text
    done = client.post(thank, follow=True)
    assert "Your thank-you post is published" in done.text and "Posted: " in done.text
    assert Post.objects.filter(jam=ended_jam, client_key=f"recap:{ended_jam.pk}").count() == 1


def test_the_transcript_exports_mark_guests_too(client: Any, ended_jam: Jam) -> None:
    from jamhost.transcripts.services import jam_archive

    post_insert(
        jam=ended_jam,
        author_key="guest:5",
        author_handle="guest5",
        author_name="Rae",
        author_role=AuthorRole.PARTICIPANT,
        body="Guest words",
        text="Guest words #RemoteJam",
    )
    jam_archive(jam_id=ended_jam.pk)
    md = client.get(reverse("transcripts:export", args=[ended_jam.slug, "md"])).content.decode()
    assert "**Rae** (guest)" in md and "@guest5" not in md
    html = client.get(reverse("transcripts:export", args=[ended_jam.slug, "html"])).content
    assert b'<span class="badge guest">guest</span>' in html and b"@guest5" not in html
