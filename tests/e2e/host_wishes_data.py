"""People and jams for tests/e2e/test_host_wishes.py, made through the services in the
server's own database (`manage.py shell`); prints JSON."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from jamhost.jams import lifecycle, people, run_sheet, services
from jamhost.jams.models import Jam, Question, Role

PASSWORD = "correct-horse-battery-9"


def _user(name: str, display: str, email: str = "") -> Any:
    return get_user_model().objects.create_user(
        username=name, password=PASSWORD, first_name=display, email=email
    )


def _jam(host: Any, title: str, *, hours_ahead: float, questions: int = 3) -> Jam:
    jam = services.jam_create(
        host=host,
        title=title,
        hashtag="Hw" + secrets.token_hex(4),
        starts_at=timezone.now() + timedelta(hours=hours_ahead),
    )
    for n in range(1, questions + 1):
        run_sheet.question_add(jam=jam, text=f"{title}: question {n}?", offset_minutes=n * 10)
    lifecycle.jam_schedule(jam=jam)
    return jam


def _member(jam: Jam, user: Any, role: str) -> None:
    invite = people.invite_create(jam=jam, role=role, actor=jam.host)
    people.invite_accept(token=invite.token, user=user)


def build(prefix: str) -> dict[str, Any]:
    host = _user(f"{prefix}_host", "Hana Host", f"{prefix}_host@example.org")
    panelist = _user(f"{prefix}_pan", "Pat Panel", f"{prefix}_pan@example.org")
    live = _jam(host, "Drafts jam", hours_ahead=1)
    _member(live, panelist, Role.PANELIST)
    lifecycle.jam_go_live(jam=live)
    run_sheet.question_release(question=live.questions.get(number=1))
    upcoming = _jam(host, "Reminder jam", hours_ahead=30)
    _member(upcoming, panelist, Role.PANELIST)
    return {
        "password": PASSWORD,
        "host": host.username,
        "panelist": panelist.username,
        "live": live.slug,
        "upcoming": upcoming.slug,
    }


def release(slug: str, number: int) -> None:
    question = Question.objects.get(jam__slug=slug, number=number)
    run_sheet.question_release(question=question)


def remind(slug: str, hours_before: float) -> None:
    """Run the reminders sweep as if it were `hours_before` the jam's start; the console
    email backend prints what it sends."""
    from jamhost.jams.reminders import reminders_sweep

    jam = Jam.objects.get(slug=slug)
    reminders_sweep(now=jam.starts_at - timedelta(hours=hours_before))


def end(slug: str) -> None:
    lifecycle.jam_end(jam=Jam.objects.get(slug=slug))


def main(prefix: str) -> None:
    print("HOST-WISHES-DATA " + json.dumps(build(prefix)))
