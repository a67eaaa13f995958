"""Load the demo jam: a live jam with a host, two panelists, a moderator and a run-sheet
with some questions already released and answered. Safe to run again: it resets the demo."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from jamhost.jams import lifecycle, run_sheet, services
from jamhost.jams.models import Jam, Membership, Role
from jamhost.posts.services import post_compose

DEMO_SLUG = "demo-remote-work-jam"
DEMO_PASSWORD = "jamhost-demo"
PEOPLE = [
    ("demo_host", "Hana Host", Role.HOST),
    ("demo_panelist", "Pat Panelist", Role.PANELIST),
    ("demo_panelist2", "Priya Panelist", Role.PANELIST),
    ("demo_moderator", "Max Moderator", Role.MODERATOR),
    ("demo_guest", "Gus Guest", None),
]
QUESTIONS = [
    (0, "What does a great remote work day look like for you?"),
    (2, "Which tool saved your team the most time this year?"),
    (10, "How do you keep meetings short and useful?"),
    (20, "What is one habit that protects your focus?"),
    (35, "What would you tell someone starting remote work tomorrow?"),
]
ANSWERS = [
    ("demo_panelist", 1, "Deep work in the morning, calls after lunch, a walk in between."),
    ("demo_panelist2", 1, "Clear goals written down the night before. Everything else follows."),
    ("demo_guest", None, "First time joining! Is there a transcript afterwards?"),
    ("demo_panelist", 2, "A shared decision log. Fewer meetings re-deciding old things."),
    ("demo_panelist2", 2, "Async video updates: 3 minutes instead of a 30 minute sync."),
]


class Command(BaseCommand):
    help = "Create (or reset) the demo jam and its demo accounts."

    def handle(self, *args: Any, **options: Any) -> None:
        users = {}
        User = get_user_model()
        for username, name, _role in PEOPLE:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name = name
            user.set_password(DEMO_PASSWORD)
            user.save()
            users[username] = user
        now = timezone.now()
        with transaction.atomic():
            Jam.objects.filter(slug=DEMO_SLUG).delete()
            Jam.objects.filter(hashtag_key="jamhostdemo").delete()
            jam = services.jam_create(
                host=users["demo_host"],
                title="Remote Work Jam (demo)",
                hashtag="JamhostDemo",
                starts_at=now + timedelta(minutes=1),
                duration_minutes=60,
                description="A demo Tweet Jam: five questions about remote work. "
                "Log in as a panelist and answer, or as the moderator and keep it tidy.",
            )
            Jam.objects.filter(pk=jam.pk).update(slug=DEMO_SLUG)
            jam.refresh_from_db()
            for username, _name, role in PEOPLE:
                if role in (Role.PANELIST, Role.MODERATOR):
                    Membership.objects.create(jam=jam, user=users[username], role=role)
            for offset, text in QUESTIONS:
                run_sheet.question_add(jam=jam, text=text, offset_minutes=offset)
            lifecycle.jam_schedule(jam=jam, now=now)
        # Start it a few minutes ago so the first questions are out and answered.
        Jam.objects.filter(pk=jam.pk).update(starts_at=now - timedelta(minutes=5))
        jam.refresh_from_db()
        lifecycle.jam_go_live(jam=jam, now=now)
        for question in jam.questions.order_by("number")[:2]:
            run_sheet.question_release(question=question, now=now)
            for username, number, body in ANSWERS:
                if number == question.number or (number is None and question.number == 1):
                    post_compose(
                        jam=jam,
                        user=users[username],
                        body=body,
                        question_number=number,
                    )
        self.stdout.write(self.style.SUCCESS(f"Demo jam ready: /jams/{DEMO_SLUG}/live/"))
        self.stdout.write(
            "A recorded jam plays into it while the server runs (DEMO_REPLAY, on in `make run`);"
            f" to replay it yourself: manage.py replay_into {DEMO_SLUG}"
        )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, name, role in PEOPLE:
            self.stdout.write(f"  {username:16} {name} ({role or 'participant'})")
