"""RSVP and reminders: each reminder once, at 24 hours and 15 minutes, with the .ics and
the room's link; members without asking; a moved jam follows, a cancelled one is quiet;
one-click unsubscribe; bad addresses refused with a clear message."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from jamhost.jams import lifecycle
from jamhost.jams.models import JamStatus, ReminderSent, Role, Rsvp
from jamhost.jams.reminders import (
    reminders_sweep,
    rsvp_count,
    rsvp_create,
    rsvp_unsubscribe,
    unsubscribe_token,
)
from tests.factories import JamFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _scheduled(hours: float = 30):  # type: ignore[no-untyped-def]
    start = (timezone.now() + timedelta(hours=hours)).replace(microsecond=0)
    return JamFactory(status=JamStatus.SCHEDULED, starts_at=start)


def test_invalid_addresses_are_refused_with_a_clear_message() -> None:
    jam = _scheduled()
    for bad in ("", "not-an-email", "a@b", "x@example.org\x00", "a" * 250 + "@example.org"):
        with pytest.raises(ValidationError) as refused:
            rsvp_create(jam=jam, email=bad)
        assert "Enter a valid email address" in str(refused.value)
    assert Rsvp.objects.count() == 0
    draft = JamFactory(status=JamStatus.DRAFT)
    with pytest.raises(ValidationError, match="scheduled jams"):
        rsvp_create(jam=draft, email="ok@example.org")


def test_each_reminder_is_sent_once_at_24h_and_15min() -> None:
    jam = _scheduled()
    rsvp_create(jam=jam, email="  Ada@Example.org ")
    rsvp_create(jam=jam, email="ada@example.org")  # the same address
    assert rsvp_count(jam=jam) == 1
    start = jam.starts_at
    assert reminders_sweep(now=start - timedelta(hours=25)).sent == []
    day = reminders_sweep(now=start - timedelta(hours=23, minutes=59))
    again = reminders_sweep(now=start - timedelta(hours=23))
    assert [k for _, k in day.sent] == ["day"] and again.sent == []
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.org"] and "in 24 hours" in message.subject
    room = reverse("live:room", args=[jam.slug])
    assert room in message.body
    (name, ics, mimetype) = message.attachments[0]
    assert name == f"{jam.slug}.ics" and mimetype == "text/calendar"
    assert b"BEGIN:VEVENT" in (ics if isinstance(ics, bytes) else ics.encode())
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert reminders_sweep(now=start - timedelta(minutes=16)).sent == []
    soon = reminders_sweep(now=start - timedelta(minutes=14))
    assert [k for _, k in soon.sent] == ["soon"] and reminders_sweep(now=start).sent == []
    assert [m.subject.split(":")[0] for m in mail.outbox] == [
        "Starting in 24 hours",
        "Starting in 15 minutes",
    ]


def test_a_late_rsvp_gets_only_the_15_minute_reminder() -> None:
    jam = _scheduled(hours=0.5)
    rsvp_create(jam=jam, email="late@example.org")
    assert reminders_sweep(now=jam.starts_at - timedelta(minutes=30)).sent == []
    assert [k for _, k in reminders_sweep(now=jam.starts_at - timedelta(minutes=10)).sent] == [
        "soon"
    ]


def test_members_are_reminded_without_asking_and_can_unsubscribe() -> None:
    jam = _scheduled()
    panelist = MembershipFactory(jam=jam, role=Role.PANELIST, user=UserFactory(email="p@ex.org"))
    MembershipFactory(jam=jam, role=Role.MODERATOR, user=UserFactory(email="m@ex.org"))
    MembershipFactory(jam=jam, role=Role.PANELIST, user=UserFactory(email=""))  # no address
    now = jam.starts_at - timedelta(hours=20)
    assert len(reminders_sweep(now=now).sent) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["m@ex.org", "p@ex.org"]
    rsvp = Rsvp.objects.get(email="p@ex.org")
    assert rsvp.user_id == panelist.user_id and not rsvp.asked
    rsvp_unsubscribe(token=unsubscribe_token(rsvp))
    rsvp_unsubscribe(token=unsubscribe_token(rsvp))  # idempotent
    mail.outbox.clear()
    reminders_sweep(now=jam.starts_at - timedelta(minutes=10))
    assert [m.to[0] for m in mail.outbox] == ["m@ex.org"]  # not enrolled again
    with pytest.raises(ValidationError, match="damaged"):
        rsvp_unsubscribe(token=unsubscribe_token(rsvp) + "x")


def test_a_moved_jam_is_reminded_at_its_new_time_a_cancelled_one_not_at_all() -> None:
    jam = _scheduled()
    rsvp_create(jam=jam, email="a@example.org")
    old_start = jam.starts_at
    reminders_sweep(now=old_start - timedelta(hours=23))
    assert len(mail.outbox) == 1
    jam.starts_at = old_start + timedelta(hours=6)
    jam.save()
    # At the old 15-minute mark no "15 minutes" reminder: the jam is hours away now. The
    # day reminder is sent again for the new start, so the new time reaches them.
    at_old_mark = reminders_sweep(now=old_start - timedelta(minutes=10))
    assert [k for _, k in at_old_mark.sent] == ["day"]
    assert f"{jam.starts_at:%H:%M} UTC" in mail.outbox[-1].body
    moved = reminders_sweep(now=jam.starts_at - timedelta(minutes=10))
    assert [k for _, k in moved.sent] == ["soon"]
    assert f"{jam.starts_at:%H:%M} UTC" in mail.outbox[-1].body
    assert len(mail.outbox) == 3
    other = _scheduled()
    rsvp_create(jam=other, email="b@example.org")
    lifecycle.jam_unschedule(jam=other)  # back to draft: cancelled
    assert reminders_sweep(now=other.starts_at - timedelta(minutes=10)).sent == []
    assert all(m.to != ["b@example.org"] for m in mail.outbox)


def test_a_failed_send_is_retried_by_the_next_sweep(settings) -> None:  # type: ignore[no-untyped-def]
    jam = _scheduled()
    rsvp_create(jam=jam, email="a@example.org")
    settings.EMAIL_BACKEND = "tests.jams.failing_mail.Backend"
    failed = reminders_sweep(now=jam.starts_at - timedelta(hours=23))
    assert failed.sent == [] and len(failed.failed) == 1
    assert not ReminderSent.objects.exists()  # the claim was rolled back
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert len(reminders_sweep(now=jam.starts_at - timedelta(hours=23)).sent) == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_each_reminder_once() -> None:
    jam = _scheduled()
    for n in range(8):
        rsvp_create(jam=jam, email=f"p{n}@example.org")
    now = jam.starts_at - timedelta(hours=23)
    results: list[int] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        try:
            barrier.wait()
            results.append(len(reminders_sweep(now=now).sent))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(results) == 8 and len(mail.outbox) == 8
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"p{n}@example.org" for n in range(8))


def test_jam_page_rsvp_count_and_unsubscribe_pages(client) -> None:  # type: ignore[no-untyped-def]
    jam = _scheduled()
    page = reverse("jams:detail", args=[jam.slug])
    assert "Be the first" in client.get(page).text
    bad = client.post(reverse("jams:rsvp", args=[jam.slug]), {"email": "nope"}, follow=True)
    assert bad.status_code == 200 and "Enter a valid email address" in bad.text
    ok = client.post(reverse("jams:rsvp", args=[jam.slug]), {"email": "x@example.org"}, follow=True)
    assert "You will be reminded" in ok.text and "1 person is coming." in ok.text
    reminders_sweep(now=jam.starts_at - timedelta(hours=23))
    link = re.search(r"https?://\S+/reminders/unsubscribe/\S+/", mail.outbox[0].body)
    assert link is not None
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    confirm = client.get("/" + path)
    assert confirm.status_code == 200 and "Unsubscribe" in confirm.text
    assert rsvp_count(jam=jam) == 1  # a GET (a link scanner) changes nothing
    done = client.post("/" + path, {"List-Unsubscribe": "One-Click"})
    assert "Unsubscribed" in done.text and rsvp_count(jam=jam) == 0
    assert client.get("/reminders/unsubscribe/garbage/").status_code == 400


def test_deleting_an_account_stops_its_reminders() -> None:
    from jamhost.accounts.services import account_delete

    jam = _scheduled()
    ada = UserFactory(email="ada@example.org")
    rsvp_create(jam=jam, email="ada@example.org", user=ada)
    rsvp_create(jam=jam, email="other@example.org")
    account_delete(user=ada, password="correct-horse-battery")
    reminders_sweep(now=jam.starts_at - timedelta(hours=23))
    assert [m.to for m in mail.outbox] == [["other@example.org"]]


def test_the_account_download_holds_reminders_and_unsent_drafts(client) -> None:  # type: ignore[no-untyped-def]
    from jamhost.jams.models import Question
    from jamhost.posts.drafts import draft_save

    jam = _scheduled()
    question = Question.objects.create(jam=jam, number=1, text="Why?", offset_minutes=0)
    ada = MembershipFactory(jam=jam, role=Role.PANELIST, user=UserFactory(email="a@ex.org")).user
    rsvp_create(jam=jam, email="a@ex.org", user=ada)
    draft_save(author=ada, question=question, body="Because", send_on_release=True)
    client.force_login(ada)
    data = client.get("/accounts/me/posts.json").json()
    assert data["reminders"] == [{"jam": jam.slug, "email": "a@ex.org", "unsubscribed": False}]
    assert data["answer_drafts"] == [
        {"jam": jam.slug, "question": 1, "body": "Because", "send_on_release": True}
    ]
