"""Reads for the moderation console and the big screen: the people panel, who answered
which question, the audit log, the posts a projector shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, QuerySet

from jamhost.jams.models import Jam, Membership, Question, Role
from jamhost.jams.selectors import released_filter
from jamhost.posts.models import (
    GUEST_AUTHOR_PREFIX,
    AuditEntry,
    Block,
    Kind,
    Post,
    PostStatus,
)

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class Person:
    author_key: str
    handle: str
    role: str
    posts: int
    visible: int
    pending: int
    hidden: int
    blocked: bool
    name: str = ""

    @property
    def shown_as(self) -> str:
        """How the panel names them: "@handle", or a guest's display name, as their posts
        show it (a guest's handle is jamhost's internal one)."""
        if self.author_key.startswith(GUEST_AUTHOR_PREFIX):
            return f"{self.name or self.handle} (guest)"
        return f"@{self.handle}"


def people_in_jam(*, jam: Jam) -> list[Person]:
    """Everyone who posted in the jam, most posts first, with their blocked state."""
    rows = (
        Post.objects.filter(jam=jam, kind=Kind.POST)
        .values("author_key")
        .annotate(
            handle=Max("author_handle"),
            name=Max("author_name"),
            role=Max("author_role"),
            posts=Count("id"),
            visible=Count("id", filter=Q(status=PostStatus.VISIBLE)),
            pending=Count("id", filter=Q(status=PostStatus.PENDING)),
            hidden=Count("id", filter=Q(status=PostStatus.HIDDEN)),
        )
        .order_by("-posts", "handle")
    )
    blocked = set(Block.objects.filter(jam=jam).values_list("author_key", flat=True))
    return [
        Person(
            author_key=row["author_key"],
            handle=row["handle"],
            role=row["role"],
            posts=row["posts"],
            visible=row["visible"],
            pending=row["pending"],
            hidden=row["hidden"],
            blocked=row["author_key"] in blocked,
            name=row["name"] or "",
        )
        for row in rows
    ]


@dataclass
class QuestionAnswers:
    question: Question
    answered: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


def panelist_answers(*, jam: Jam) -> list[QuestionAnswers]:
    """For each released question, the panelists who answered it (a post with its
    A-number that is not hidden) and those who have not yet, so the host can nudge."""
    panelists = list(
        Membership.objects.filter(jam=jam, role=Role.PANELIST)
        .select_related("user")
        .order_by("user__username")
    )
    questions = list(jam.questions.filter(released_filter()).order_by("number"))
    answered = set(
        Post.objects.filter(
            jam=jam,
            kind=Kind.POST,
            question__in=questions,
            author_id__in=[m.user_id for m in panelists],
        )
        .exclude(status=PostStatus.HIDDEN)
        .values_list("question_id", "author_id")
    )
    table = []
    for question in questions:
        row = QuestionAnswers(question=question)
        for membership in panelists:
            handle = membership.user.get_username()
            if (question.pk, membership.user_id) in answered:
                row.answered.append(handle)
            else:
                row.waiting.append(handle)
        table.append(row)
    return table


def audit_for_jam(*, jam: Jam, limit: int = AUDIT_PAGE_SIZE) -> list[AuditEntry]:
    """The jam's latest moderation actions, newest first."""
    return list(AuditEntry.objects.filter(jam=jam).select_related("post")[:limit])


def posts_for_screen(*, jam: Jam) -> QuerySet[Post]:
    """What a projector shows besides the question: pinned and featured visible posts."""
    return (
        Post.objects.filter(jam=jam, status=PostStatus.VISIBLE)
        .filter(Q(pinned=True) | Q(featured=True))
        .select_related("question")
        .order_by("seq")
    )
