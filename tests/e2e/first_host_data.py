"""The people and jams the first-host browser tests start from, made through the services
in the server's own database (`manage.py shell`), so each test starts in seconds rather
than clicking through sign-ups. Run by tests/e2e/test_first_host.py; prints JSON."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from jamhost.jams import lifecycle, people, run_sheet, services
from jamhost.jams.models import Jam, Role
from jamhost.posts.services import post_compose

PASSWORD = "correct-horse-battery-9"


def _user(name: str, display: str) -> Any:
    return get_user_model().objects.create_user(
        username=name, password=PASSWORD, first_name=display
    )


def _live(
    host: Any, title: str, *, minutes_ago: int = 1, questions: int = 3, released: int = 1
) -> Jam:
    """A live jam that went live `minutes_ago`, questions 10 minutes apart from +10 (Q1 at
    +0 when the jam is older than that), `released` of them out."""
    now = timezone.now()
    tag = "Fh" + secrets.token_hex(4)
    jam = services.jam_create(
        host=host, title=title, hashtag=tag, starts_at=now + timedelta(hours=1)
    )
    for n in range(1, questions + 1):
        run_sheet.question_add(jam=jam, text=f"{title}: question {n}?", offset_minutes=n * 10)
    lifecycle.jam_schedule(jam=jam)
    start = now - timedelta(minutes=minutes_ago)
    Jam.objects.filter(pk=jam.pk).update(starts_at=start)
    jam.refresh_from_db()
    lifecycle.jam_go_live(jam=jam, now=start)
    for question in jam.questions.order_by("number")[:released]:
        run_sheet.question_release(question=question, now=start)
    jam.refresh_from_db()
    return jam


def build(prefix: str) -> dict[str, Any]:
    host = _user(f"{prefix}_host", "Hana Host")
    panelist = _user(f"{prefix}_pat", "Pat Panelist")
    moderator = _user(f"{prefix}_mo", "Mo Moderator")
    guest = _user(f"{prefix}_gus", "Gus Guest")

    # Scheduled, a day ahead: invite links, the .ics, the feed, the hashtag clash.
    upcoming = services.jam_create(
        host=host,
        title=f"Upcoming {prefix}",
        hashtag="Up" + secrets.token_hex(4),
        starts_at=(timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0),
    )
    run_sheet.question_add(jam=upcoming, text="Who are you?", offset_minutes=0)
    lifecycle.jam_schedule(jam=upcoming)
    invite = people.invite_create(jam=upcoming, role=Role.PANELIST, actor=host, note="Pat")

    def member(jam: Jam) -> Jam:
        people.invite_accept(
            token=people.invite_create(jam=jam, role=Role.PANELIST, actor=host).token,
            user=panelist,
        )
        people.invite_accept(
            token=people.invite_create(jam=jam, role=Role.MODERATOR, actor=host).token,
            user=moderator,
        )
        return jam

    # Every question out: nothing to count down to until the host adds one.
    all_out = member(_live(host, f"All out {prefix}", questions=2, released=2))
    compose = member(_live(host, f"Compose {prefix}"))
    ending = member(_live(host, f"Ending {prefix}"))
    # Went live half an hour ago (an hour planned); the test ends it.
    ran = member(_live(host, f"Ran {prefix}", minutes_ago=30, questions=4, released=2))
    # Ended and archived already: its exports.
    archived = member(_live(host, f"Archived {prefix}"))
    post_compose(jam=archived, user=panelist, body="Naïve café answer 🎉, for the CSV")
    lifecycle.jam_end(jam=archived)  # archived after commit (CELERY_EAGER)
    busy = member(_live(host, f"Busy {prefix}"))
    for n in range(40):
        post_compose(jam=busy, user=guest if n % 2 else panelist, body=f"Earlier post {n}")
    audience = member(_live(host, f"Audience {prefix}"))
    question = post_compose(
        jam=audience, user=guest, body="Will there be a recording?", question_number=None
    )
    answer = post_compose(jam=audience, user=panelist, body="Mornings are for deep work.")
    return {
        "password": PASSWORD,
        "users": {
            "host": host.username,
            "panelist": panelist.username,
            "moderator": moderator.username,
            "guest": guest.username,
        },
        "upcoming": {
            "slug": upcoming.slug,
            "hashtag": upcoming.hashtag,
            "starts_at": upcoming.starts_at.isoformat(),
        },
        "invite": invite.get_absolute_url(),
        "all_out": all_out.slug,
        "compose": compose.slug,
        "ending": ending.slug,
        "ran": {
            "slug": ran.slug,
            "hashtag": ran.hashtag,
            "went_live_at": ran.went_live_at.isoformat() if ran.went_live_at else "",
        },
        "archived": archived.slug,
        "busy": busy.slug,
        "audience": {"slug": audience.slug, "question": question.pk, "answer": answer.pk},
    }


def main(prefix: str) -> None:
    print("FIRST-HOST-DATA " + json.dumps(build(prefix)))
