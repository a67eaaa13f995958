from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from jamhost.jams import lifecycle, run_sheet
from jamhost.jams.models import Jam, JamStatus, Role
from jamhost.posts.models import AuthorRole, Post, PostStatus, Source
from jamhost.posts.services import post_insert
from tests.factories import JamFactory, MembershipFactory, QuestionFactory, UserFactory

HIDDEN_TEXT = "Buy followers cheap, this is spam"
PENDING_TEXT = "Waiting for a moderator, never approved"


def build_jam(
    *,
    title: str = "Remote Work Jam",
    hashtag: str = "RemoteJam",
    x_status_id: str = "1790000000000000001",
    **extra: Any,
) -> Jam:
    """An ended jam with two released questions (one left unreleased), panelists, the
    community, an X post, a hidden and a pending post, and text that tests escaping."""
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    host = UserFactory(username=f"host_{hashtag.lower()}", first_name="Hana", last_name="Host")
    jam = JamFactory(
        title=title,
        hashtag=hashtag,
        hashtag_key=hashtag.lower(),
        host=host,
        starts_at=t0,
        status=JamStatus.SCHEDULED,
        **extra,
    )
    q1 = QuestionFactory(jam=jam, number=1, text="What does a great day look like?")
    q2 = QuestionFactory(jam=jam, number=2, text="Which tool saved you time?", offset_minutes=10)
    QuestionFactory(jam=jam, number=3, text="Never released", offset_minutes=40)
    pat = UserFactory(username=f"pat_{hashtag.lower()}", first_name="Pat", last_name="Panel")
    priya = UserFactory(username=f"priya_{hashtag.lower()}", first_name="Priya", last_name="")
    guest = UserFactory(username=f"gus_{hashtag.lower()}", first_name="Gus", last_name="Guest")
    MembershipFactory(jam=jam, user=pat, role=Role.PANELIST)
    MembershipFactory(jam=jam, user=priya, role=Role.PANELIST)
    lifecycle.jam_go_live(jam=jam, now=t0)

    def post(user: Any, text: str, minute: float, question: Any = None, **kw: Any) -> Post:
        role = kw.pop("author_role", None) or (
            AuthorRole.PANELIST if user in (pat, priya) else AuthorRole.PARTICIPANT
        )
        return post_insert(
            jam=jam,
            author=user,
            author_role=role,
            body=text,
            text=f"{text} #{hashtag}",
            question=question,
            now=t0 + timedelta(minutes=minute),
            **kw,
        )

    post(guest, "Hello all! Notes at https://example.com/notes?utm_source=x.", 0.5)
    run_sheet.question_release(question=q1, now=t0 + timedelta(minutes=1))
    post(pat, "A1: Deep work *first*, calls after_lunch.", 2, q1)
    community = post(guest, "A1: A walk, then email, then https://example.com/notes", 3, q1)
    post(guest, HIDDEN_TEXT, 3.5, status=PostStatus.HIDDEN, status_reason="spam")
    post(guest, PENDING_TEXT, 3.6, status=PostStatus.PENDING, status_reason="pre-moderation")
    post_insert(
        jam=jam,
        author_key="x:4242",
        author_handle="xperson",
        author_name="X Person",
        author_role=AuthorRole.PARTICIPANT,
        body="A1: Coffee. Then code.",
        text=f"A1: Coffee. Then code. #{hashtag} https://t.co/abc",
        question=q1,
        source=Source.X,
        external_id=x_status_id,
        links=["https://example.com/coffee/"],
        metrics={"like_count": 3},
        now=t0 + timedelta(minutes=4),
    )
    run_sheet.question_release(question=q2, now=t0 + timedelta(minutes=10))
    pinned = post(priya, 'A2: He said "use a log", then\nleft; commas, too', 11, q2)
    post(guest, "Emoji 🎉 and ünïcode — first time here", 12)
    Post.objects.filter(pk=community.pk).update(featured=True)
    Post.objects.filter(pk=pinned.pk).update(pinned=True)
    lifecycle.jam_end(jam=jam, now=t0 + timedelta(minutes=60))
    jam.refresh_from_db()
    return jam


@pytest.fixture
def ended_jam(db: Any) -> Jam:
    return build_jam()


@pytest.fixture(autouse=True)
def _fresh_transcript_memo() -> Any:
    """Each test reads transcripts from the database first, as a new process would."""
    from jamhost.transcripts.memo import memo_clear

    memo_clear()
    yield
    memo_clear()
