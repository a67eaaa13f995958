"""Answers drafted ahead: saved with X's count, sent once through the compose path, sent
on release by the sweep, flagged when a hashtag change makes them too long."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from jamhost.jams import lifecycle, run_sheet
from jamhost.jams.models import JamStatus, ModerationMode, Role
from jamhost.jams.sweep import jams_sweep
from jamhost.posts.drafts import (
    draft_problem,
    draft_save,
    draft_send,
    drafts_overview,
    drafts_ready,
    drafts_send_released,
)
from jamhost.posts.models import AnswerDraft, AuditEntry, ModerationAction, Post, PostStatus
from tests.factories import JamFactory, MembershipFactory, QuestionFactory, UserFactory, live_jam

pytestmark = pytest.mark.django_db


def _scheduled(**kwargs: object):  # type: ignore[no-untyped-def]
    jam = JamFactory(status=JamStatus.SCHEDULED, **kwargs)
    for n in (1, 2):
        QuestionFactory(jam=jam, number=n, offset_minutes=(n - 1) * 10)
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    return jam, panelist


def test_a_draft_is_counted_with_its_prefix_and_the_hashtag(settings: Any) -> None:
    settings.X_CLIENT_ID = "client"  # the jam runs on X: X's limit applies
    jam, panelist = _scheduled(hashtag="Short")
    q2 = jam.questions.get(number=2)
    # 280 - len("A2: ") - len(" #Short") = 269 characters fit; one more does not.
    draft = draft_save(author=panelist, question=q2, body="x" * 269)
    assert draft.body == "x" * 269 and draft_problem(draft) == ""
    with pytest.raises(ValidationError) as refused:
        draft_save(author=panelist, question=q2, body="x" * 270)
    assert "281 characters" in str(refused.value) and "Shorten it by 1" in str(refused.value)


def test_bad_drafts_are_refused_with_a_reason() -> None:
    jam, panelist = _scheduled()
    q1 = jam.questions.get(number=1)
    with pytest.raises(ValidationError, match="answers Q1"):
        draft_save(author=panelist, question=q1, body="A2: wrong question")
    with pytest.raises(ValidationError, match="Write the answer"):
        draft_save(author=panelist, question=q1, body="   \u200b ")
    with pytest.raises(PermissionDenied):
        draft_save(author=UserFactory(), question=q1, body="not a panelist")
    moderator = MembershipFactory(jam=jam, role=Role.MODERATOR).user
    with pytest.raises(PermissionDenied):
        draft_save(author=moderator, question=q1, body="moderators do not draft")


def test_a_hashtag_change_flags_a_draft_that_no_longer_fits(settings: Any) -> None:
    settings.X_CLIENT_ID = "client"  # the jam runs on X: X's limit applies
    jam, panelist = _scheduled(hashtag="Ab")
    q1 = jam.questions.get(number=1)
    draft = draft_save(author=panelist, question=q1, body="y" * 272, send_on_release=True)
    assert draft_problem(draft) == ""
    jam.hashtag = "MuchLongerHashtag"
    jam.save()
    draft.refresh_from_db()
    problem = draft_problem(draft)
    assert "Too long now" in problem and "#MuchLongerHashtag" in problem
    assert "before Q1 is released" in problem
    # Sent on release it is refused with that reason, kept for the panelist; no post.
    lifecycle.jam_go_live(jam=jam)
    run_sheet.question_release(question=q1)
    result = drafts_send_released()
    assert result.refused == [draft.pk] and result.sent == []
    draft.refresh_from_db()
    assert "Too long now" in draft.send_error and draft.post is None
    assert not Post.objects.filter(jam=jam, author=panelist).exists()
    # Edited to fit, it goes out on the next sweep.
    draft_save(author=panelist, question=q1, body="shorter", draft=draft, send_on_release=True)
    assert drafts_send_released().sent == [draft.pk]


def test_send_goes_through_compose_once_with_an_audit_entry() -> None:
    jam = live_jam(questions=2, released=1)
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    q2 = jam.questions.get(number=2)
    draft = draft_save(author=panelist, question=q2, body="Async first")
    with pytest.raises(ValidationError, match="Q2 has not been released"):
        draft_send(author=panelist, draft=draft)
    assert drafts_ready(jam=jam, author=panelist) == []
    run_sheet.question_release(question=q2)
    draft.refresh_from_db()
    assert [r.draft.pk for r in drafts_ready(jam=jam, author=panelist)] == [draft.pk]
    with pytest.raises(PermissionDenied):
        draft_send(author=UserFactory(), draft=draft)
    post = draft_send(author=panelist, draft=draft)
    again = draft_send(author=panelist, draft=AnswerDraft.objects.get(pk=draft.pk))
    stale = AnswerDraft.objects.get(pk=draft.pk)
    stale.post, stale.sent_at = None, None  # a second sender that read it before the first
    third = draft_send(author=panelist, draft=stale)
    assert post.pk == again.pk == third.pk
    assert post.text == f"A2: Async first #{jam.hashtag}" and post.question == q2
    assert Post.objects.filter(jam=jam, author=panelist).count() == 1
    entries = AuditEntry.objects.filter(jam=jam, action=ModerationAction.DRAFT_SENT)
    assert [(e.post_id, e.actor_id) for e in entries] == [(post.pk, panelist.pk)]
    assert drafts_ready(jam=jam, author=panelist) == []


def test_send_on_release_goes_out_once_through_moderation() -> None:
    now = timezone.now()
    jam = JamFactory(
        status=JamStatus.SCHEDULED,
        starts_at=now - timedelta(minutes=1),
        moderation_mode=ModerationMode.PRE,
        muted_words="forbidden",
    )
    q1 = QuestionFactory(jam=jam, number=1, offset_minutes=0)
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    host_draft = draft_save(author=jam.host, question=q1, body="Host's own", send_on_release=True)
    on_release = draft_save(author=panelist, question=q1, body="Ready early", send_on_release=True)
    by_hand = draft_save(author=panelist, question=q1, body="Tap to send")
    jams_sweep(now=now)  # goes live, releases Q1
    first = drafts_send_released()
    second = drafts_send_released()
    assert sorted(first.sent) == sorted([host_draft.pk, on_release.pk]) and second.sent == []
    posts = Post.objects.filter(jam=jam, kind="post")
    assert sorted(p.body for p in posts) == ["Host's own", "Ready early"]
    assert AnswerDraft.objects.get(pk=by_hand.pk).post is None
    # Panelists' posts are visible under pre-moderation, as typed ones are.
    assert {p.status for p in posts} == {PostStatus.VISIBLE}


def test_a_draft_for_a_cancelled_or_unreleased_question_is_never_sent() -> None:
    jam, panelist = _scheduled()
    q2 = jam.questions.get(number=2)
    draft = draft_save(author=panelist, question=q2, body="Later", send_on_release=True)
    assert drafts_send_released().sent == []  # the jam is not even live
    lifecycle.jam_go_live(jam=jam)
    assert drafts_send_released().sent == []  # Q2 not out
    run_sheet.question_delete(question=q2)
    assert not AnswerDraft.objects.filter(pk=draft.pk).exists()


def test_host_overview_says_who_drafted_for_which_question() -> None:
    jam, panelist = _scheduled()
    q1 = jam.questions.get(number=1)
    other = MembershipFactory(jam=jam, role=Role.PANELIST, user=UserFactory(first_name="Zoe")).user
    draft_save(author=panelist, question=q1, body="one")
    draft_save(author=panelist, question=q1, body="two", send_on_release=True)
    draft_save(author=other, question=q1, body="three")
    overview = {item.question.number: item.people for item in drafts_overview(jam=jam)}
    assert overview[2] == []
    by_handle = {p[1]: p for p in overview[1]}
    assert by_handle[panelist.username][2:] == (2, 0, 1)
    assert by_handle[other.username][0] == "Zoe" and by_handle[other.username][2] == 1


def test_pages_draft_send_and_overview(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.X_CLIENT_ID = "client"  # the jam runs on X: X's limit applies
    jam = live_jam(questions=2, released=1)
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST).user
    q2 = jam.questions.get(number=2)
    url = reverse("posts:drafts", args=[jam.slug])
    assert client.get(url).status_code == 302  # log in first
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    client.force_login(panelist)
    assert client.get(url).status_code == 200
    too_long = client.post(url, {"question": q2.pk, "body": "z" * 300})
    assert too_long.status_code == 400 and "over the limit of 280" in too_long.text
    assert "z" * 300 in too_long.text  # the text is kept
    assert client.post(url, {"question": "nope", "body": "x"}).status_code == 400
    saved = client.post(url, {"question": q2.pk, "body": "From the page"})
    assert saved.status_code == 302
    draft = AnswerDraft.objects.get(author=panelist)
    ready = client.get(reverse("posts:drafts_ready", args=[jam.slug]))
    assert "From the page" not in ready.text  # Q2 is not out yet
    run_sheet.question_release(question=q2)
    ready = client.get(reverse("posts:drafts_ready", args=[jam.slug]))
    assert "A2: From the page" in ready.text and "Send Q2 answer" in ready.text
    sent = client.post(
        reverse("posts:draft_send", args=[jam.slug, draft.pk]),
        {"next": reverse("live:room", args=[jam.slug])},
    )
    assert sent.status_code == 302 and sent["Location"] == reverse("live:room", args=[jam.slug])
    assert Post.objects.filter(author=panelist, body="From the page").count() == 1
    # Someone else's draft is not found; the host sees the overview, a panelist does not.
    client.force_login(UserFactory())
    assert client.post(reverse("posts:draft_send", args=[jam.slug, draft.pk])).status_code == 404
    overview = reverse("posts:drafts_overview", args=[jam.slug])
    client.force_login(panelist)
    assert client.get(overview).status_code == 403
    client.force_login(jam.host)
    page = client.get(overview)
    assert page.status_code == 200 and f"@{panelist.username}" in page.text
    assert "1 sent" in page.text


def test_the_room_panel_flags_a_draft_made_too_long_before_release(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.X_CLIENT_ID = "client"  # the jam runs on X: X's limit applies
    jam, panelist = _scheduled(hashtag="Ab")
    q2 = jam.questions.get(number=2)
    draft_save(author=panelist, question=q2, body="w" * 272)
    panel = reverse("posts:drafts_ready", args=[jam.slug])
    client.force_login(panelist)
    assert "no longer fit" not in client.get(panel).text
    jam.hashtag = "AMuchLongerTag"
    jam.save()
    flagged = client.get(panel).text
    assert "Drafts that no longer fit" in flagged and "Q2: Too long now" in flagged
    assert "#AMuchLongerTag" in flagged and "Shorten it by" in flagged
    page = client.get(reverse("posts:drafts", args=[jam.slug])).text
    assert "Some drafts no longer fit" in page
