"""The recap of an ended jam: each question with its featured (or most upvoted) answers,
the top audience questions and their answers, the contributors thanked by name and
handle (new faces marked), and the numbers; as a page, Markdown and a standalone HTML
file. The host can post a short "thank you + recap link" through the compose path.

Read from the jam's visible posts, so a post hidden or deleted since is not in it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_edit
from jamhost.links import absolute_url
from jamhost.posts.compose import compose_text, text_rules_for
from jamhost.posts.models import AuthorRole, Kind, Post, PostStatus, Source
from jamhost.posts.services import post_store_composed
from jamhost.transcripts.exports import _md_escape, _md_link

ANSWERS_PER_QUESTION = 3
TOP_AUDIENCE_QUESTIONS = 5
SOURCE_LABELS = dict(Source.choices)


@dataclass
class RecapQuestion:
    number: int
    text: str
    answers: list[Post]
    featured: bool  # the answers shown are the featured ones (else the most upvoted)


@dataclass
class AudienceQuestion:
    post: Post
    answers: list[Post]


@dataclass
class Contributor:
    name: str
    handle: str
    role: str
    posts: int
    guest: bool
    new_face: bool


@dataclass
class Recap:
    jam: Jam
    url: str
    questions: list[RecapQuestion] = field(default_factory=list)
    audience: list[AudienceQuestion] = field(default_factory=list)
    contributors: list[Contributor] = field(default_factory=list)
    posts: int = 0
    people: int = 0
    networks: list[tuple[str, int]] = field(default_factory=list)


def _top(answers: list[Post], limit: int) -> list[Post]:
    return sorted(answers, key=lambda p: (-p.upvotes, p.seq))[:limit]


def recap_build(*, jam: Jam, url: str | None = None) -> Recap:
    """The recap of `jam` (over or not: the page shows it only once the jam has ended)."""
    recap = Recap(jam=jam, url=url or absolute_url(reverse("transcripts:recap", args=[jam.slug])))
    posts = list(
        Post.objects.filter(jam=jam, status=PostStatus.VISIBLE, kind=Kind.POST)
        .select_related("question")
        .order_by("seq")
    )
    by_question: dict[int, list[Post]] = {}
    for post in posts:
        if post.question_id is not None and post.reply_to_id is None:
            by_question.setdefault(post.question_id, []).append(post)
    for question in jam.questions.filter(released_at__isnull=False).order_by("number"):
        answers = by_question.get(question.pk, [])
        featured = [a for a in answers if a.featured]
        recap.questions.append(
            RecapQuestion(
                number=question.number,
                text=question.text,
                answers=featured or _top(answers, ANSWERS_PER_QUESTION),
                featured=bool(featured),
            )
        )
    replies: dict[int, list[Post]] = {}
    for post in posts:
        if post.reply_to_id is not None:
            replies.setdefault(post.reply_to_id, []).append(post)
    asked = [p for p in posts if p.is_audience_question and p.reply_to_id is None]
    recap.audience = [
        AudienceQuestion(post=p, answers=replies.get(p.pk, []))
        for p in _top(asked, TOP_AUDIENCE_QUESTIONS)
    ]
    recap.posts = len(posts)
    recap.networks = sorted(
        ((SOURCE_LABELS.get(s, s), n) for s, n in Counter(p.source for p in posts).items()),
        key=lambda item: -item[1],
    )
    recap.contributors = _contributors(jam, posts)
    recap.people = len({p.author_key for p in posts})
    return recap


def _contributors(jam: Jam, posts: list[Post]) -> list[Contributor]:
    """Everyone who posted, most posts first; a deleted account is not named. A new face
    has no visible post in any jam that started before this one."""
    counts = Counter(p.author_key for p in posts)
    first: dict[str, Post] = {}
    for post in posts:
        first.setdefault(post.author_key, post)
    named = [k for k in counts if not first[k].author_deleted]
    seen_before = set(
        Post.objects.filter(
            Q(author_key__in=named),
            status=PostStatus.VISIBLE,
            jam__starts_at__lt=jam.starts_at,
        )
        .exclude(jam=jam)
        .values_list("author_key", flat=True)
        .distinct()
    )
    people = []
    for key in named:
        post = first[key]
        people.append(
            Contributor(
                name=post.author_name or post.author_handle,
                handle="" if post.is_guest else post.author_handle,
                role=post.author_role,
                posts=counts[key],
                guest=post.is_guest,
                new_face=key not in seen_before,
            )
        )
    return sorted(people, key=lambda c: (-c.posts, c.name.casefold()))


# Markdown and HTML ----------------------------------------------------------------------


def _md_who(post: Post) -> str:
    name = _md_escape(post.author_name or post.author_handle)
    return f"**{name}** (guest)" if post.is_guest else f"**{name}** (@{post.author_handle})"


def recap_markdown(recap: Recap) -> str:
    """The recap as Markdown to paste into a blog: every text escaped so that nothing in
    a post is read as markup (the transcript export's rules)."""
    jam = recap.jam
    link = _md_link(recap.url)
    lines = [f"# Recap: {_md_escape(jam.title)} (#{jam.hashtag})", ""]
    networks = ", ".join(f"{n} on {_md_escape(label)}" for label, n in recap.networks)
    lines.append(
        f"{recap.posts} posts by {recap.people} people" + (f" ({networks})." if networks else ".")
    )
    for q in recap.questions:
        lines += ["", f"## Q{q.number}: {_md_escape(q.text)}", ""]
        lines += [f"- {_md_who(a)}: {_md_escape(a.text)}" for a in q.answers] or ["_No answers._"]
    if recap.audience:
        lines += ["", "## Top questions from the audience", ""]
        for item in recap.audience:
            up = f" (▲ {item.post.upvotes})" if item.post.upvotes else ""
            lines.append(f"- {_md_who(item.post)}{up}: {_md_escape(item.post.text)}")
            lines += [f"  - ↪ {_md_who(a)}: {_md_escape(a.text)}" for a in item.answers]
    if recap.contributors:
        lines += ["", "## Thank you", ""]
        for c in recap.contributors:
            who = f"**{_md_escape(c.name)}**" + (" (guest)" if c.guest else f" (@{c.handle})")
            lines.append(f"- {who}" + (" _new face_" if c.new_face else ""))
    if link:
        lines += ["", f"[The full recap]({link})"]
    lines.append("")
    return "\n".join(lines)


def recap_html(recap: Recap) -> str:
    """One self-contained HTML file (inline CSS, no scripts); the template escapes."""
    return render_to_string("transcripts/recap_export.html", {"recap": recap})


def recap_filename(recap: Recap, extension: str) -> str:
    return f"{recap.jam.slug}-{recap.jam.starts_at:%Y-%m-%d}-recap.{extension}"


# The thank-you post ---------------------------------------------------------------------


def recap_thank_you_text(recap: Recap) -> str:
    return (
        f"Thank you to everyone who joined {recap.jam.title}: {recap.posts} posts from "
        f"{recap.people} people. The recap: {recap.url}"
    )


def recap_thank_you_publish(*, jam: Jam, actor: Any, recap: Recap | None = None) -> Post:
    """The host's "thank you + recap link" post, through the compose path (stored as the
    host's post, queued for X when the host's account is linked). Once per jam: sent
    again it returns the first one. Raises PermissionDenied for anyone but the host,
    ValidationError before the jam has ended or when the text does not fit a network it goes to."""
    if not (can_edit(user=actor, jam=jam) and actor.pk == jam.host_id):
        raise PermissionDenied("Only the jam's host can post its thank-you.")
    if not jam.is_over:
        raise ValidationError("The thank-you post is for after the jam has ended.")
    recap = recap or recap_build(jam=jam)
    body = recap_thank_you_text(recap)
    rules = text_rules_for(jam=jam, user=actor)
    composed = compose_text(body=body, hashtag=jam.hashtag, question_number=None, rules=rules)
    if not composed.fits:
        # A long title: say less rather than refuse.
        body = f"Thank you to everyone who joined! The recap: {recap.url}"
        composed = compose_text(body=body, hashtag=jam.hashtag, question_number=None, rules=rules)
    if not composed.fits:
        raise ValidationError(
            f"{composed.refusal('thank-you post')} Shorten the hashtag or post it yourself."
        )
    post = post_store_composed(
        jam=jam,
        user=actor,
        body=body,
        text=composed.text,
        author_role=AuthorRole.HOST,
        question=None,
        client_key=f"recap:{jam.pk}",
    )
    # The archived transcript no longer holds every post: the archive sweep makes a new one.
    Jam.objects.filter(pk=jam.pk, archived_at__isnull=False).update(transcript_outdated=True)
    return post
