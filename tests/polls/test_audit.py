"""Polls in the audit log beside the moderation actions: added to and taken off the
run-sheet, launched, closed early and sent to X, each once, with who did it, and shown in
the console's audit list. A refused change writes nothing; the sweep's own closes are not
moderation and are not listed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jamhost.polls.models import Poll, XPollState
from jamhost.polls.services import poll_add, poll_close_now, poll_delete, poll_launch
from jamhost.polls.sweep import polls_sweep
from jamhost.posts.models import AuditEntry, ModerationAction
from tests.networks.conftest import link_x
from tests.polls.conftest import PollRoom
from tests.xstate import on_x

pytestmark = pytest.mark.django_db


def entries(room: PollRoom) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(jam=room.jam).order_by("id"))


def panels(room: PollRoom, user: Any) -> str:
    client = Client()
    client.force_login(user)
    answer = client.get(reverse("posts:console_panels", kwargs={"slug": room.jam.slug}))
    assert answer.status_code == 200
    return answer.content.decode()


def test_a_launch_and_an_early_close_are_audited_once_and_shown_in_the_console() -> None:
    room = PollRoom()
    poll = poll_launch(
        jam=room.jam,
        user=room.moderator,
        text="Tabs or spaces?",
        options=["Tabs", "Spaces"],
        open_minutes=5,
    )
    [launched] = entries(room)
    assert launched.action == ModerationAction.POLL_LAUNCH
    assert launched.actor == room.moderator and launched.post is None
    assert launched.after["poll"] == "Tabs or spaces?"
    assert launched.after["options"] == ["Tabs", "Spaces"]
    assert launched.after["closes"] == f"{poll.closes_at:%H:%M:%S} UTC"

    poll_close_now(poll=poll, user=room.host)
    poll_close_now(poll=poll, user=room.moderator)  # closed already: nothing to record
    launched_again, closed = entries(room)
    assert launched_again == launched
    assert closed.action == ModerationAction.POLL_CLOSE and closed.actor == room.host
    assert ("state", "open", "closed") in closed.changes()

    html = panels(room, room.host)
    assert f"@{room.moderator.username}</strong> launched a poll" in html
    assert f"@{room.host.username}</strong> closed a poll early" in html
    assert html.count('<q class="poll-subject">Tabs or spaces?</q>') == 2
    assert "options: – → Tabs, Spaces" in html
    assert "No moderation yet" not in html


def test_run_sheet_additions_and_removals_are_audited_and_the_sweeps_closes_are_not() -> None:
    room = PollRoom()
    kept = poll_add(
        jam=room.jam,
        user=room.host,
        text="First question?",
        options=["A", "B", "C"],
        open_minutes=3,
        offset_minutes=6,
    )
    removed = poll_add(
        jam=room.jam,
        user=room.moderator,
        text="Dropped?",
        options=["Yes", "No"],
        open_minutes=5,
        offset_minutes=40,
    )
    poll_delete(poll=removed, user=room.host)
    poll_delete(poll=removed, user=room.moderator)  # off already: nothing more to record
    added, added_too, taken_off = entries(room)
    assert [e.action for e in (added, added_too, taken_off)] == [
        ModerationAction.POLL_ADD,
        ModerationAction.POLL_ADD,
        ModerationAction.POLL_REMOVE,
    ]
    assert added.after["opens"] == "6 min after the start" and added.actor == room.host
    assert added_too.actor == room.moderator and taken_off.after["poll"] == "Dropped?"

    # The sweep opens the run-sheet poll at its minute and closes it at its time: no
    # person acted, and a poll not going to X leaves nothing more in the log.
    now = timezone.now()
    polls_sweep(now=now + timedelta(minutes=2))
    polls_sweep(now=now + timedelta(minutes=6))
    assert Poll.objects.get(pk=kept.pk).is_closed
    assert len(entries(room)) == 3

    html = panels(room, room.moderator)
    assert "added a run-sheet poll" in html and "removed a run-sheet poll" in html
    assert '<q class="poll-subject">Dropped?</q>' in html


def test_a_refused_poll_change_writes_no_audit_entry() -> None:
    room = PollRoom()
    with pytest.raises(ValidationError):
        poll_launch(jam=room.jam, user=room.host, text="One?", options=["A"], open_minutes=5)
    with pytest.raises(ValidationError):
        poll_add(
            jam=room.jam,
            user=room.host,
            text="Q?",
            options=["A", "B"],
            open_minutes=5,
            offset_minutes="soon",
        )
    opened = room.launch()
    with pytest.raises(ValidationError):
        poll_delete(poll=opened, user=room.host)
    assert [e.action for e in entries(room)] == [ModerationAction.POLL_LAUNCH]


def test_the_poll_views_write_the_audit_entries_too() -> None:
    room = PollRoom()
    client = Client()
    client.force_login(room.moderator)
    slug = room.jam.slug
    client.post(
        reverse("polls:launch", kwargs={"slug": slug}),
        {"text": "Coffee or tea?", "option": ["Coffee", "Tea"], "minutes": "5"},
    )
    poll = Poll.objects.get()
    client.post(reverse("polls:close", kwargs={"slug": slug, "pk": poll.pk}))
    assert [(e.action, e.actor) for e in entries(room)] == [
        (ModerationAction.POLL_LAUNCH, room.moderator),
        (ModerationAction.POLL_CLOSE, room.moderator),
    ]


def test_a_poll_sent_to_x_is_audited_with_its_post_and_who_sent_it(
    x_server: Any, django_capture_on_commit_callbacks: Any
) -> None:
    room = PollRoom()
    link_x(x_server, room.host)
    with django_capture_on_commit_callbacks(execute=True):
        launched = poll_launch(
            jam=room.jam,
            user=room.moderator,
            text="Which editor?",
            options=["Vim", "Emacs"],
            open_minutes=5,
            on_x=True,
        )
        poll_add(
            jam=room.jam,
            user=room.host,
            text="Which shell?",
            options=["bash", "zsh"],
            open_minutes=5,
            offset_minutes=1,
            on_x=True,
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert len(polls_sweep(now=timezone.now()).opened) == 1  # the sweep sends it

    by_action: dict[str, list[AuditEntry]] = {}
    for entry in entries(room):
        by_action.setdefault(entry.action, []).append(entry)
    assert [e.after["poll"] for e in by_action[ModerationAction.POLL_LAUNCH]] == ["Which editor?"]
    by_hand, by_sweep = by_action[ModerationAction.POLL_X]
    launched = Poll.objects.select_related("x_post").get(pk=launched.pk)
    assert by_hand.actor == room.moderator and by_hand.post == launched.x_post
    assert by_hand.after["on X"] == XPollState.QUEUED.label
    assert by_sweep.actor is None and by_sweep.actor_handle == "jamhost"
    assert by_sweep.after["poll"] == "Which shell?" and by_sweep.post is not None
    assert launched.x_post is not None and on_x(launched.x_post).x_id  # it did go out

    html = panels(room, room.host)
    assert "<strong>@jamhost</strong> sent to X the poll" in html
    assert '<q class="poll-subject">Which shell?</q>' in html
