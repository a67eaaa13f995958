"""Polls on the pages of the apps below (room, console, big screen, embed, the jam's
edit page), without those apps importing polls: `{% load polls %}`."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from jamhost.networks.post_state import x_runs
from jamhost.polls.live import render_poll
from jamhost.polls.models import MAX_OPTIONS, Poll, PollState

register = template.Library()


@register.simple_tag
def jam_polls(jam: Any, user: Any = None, can_close: bool = False) -> SafeString:
    """The jam's opened polls, newest first, each the live fragment; the container live.js
    places new polls in. With a signed-in `user`, static/js/polls.js lets them vote;
    with `can_close`, close open polls early.
    One query (two when the jam has polls), whatever the number of posts."""
    polls = (
        Poll.objects.filter(jam_id=jam.pk)
        .exclude(state=PollState.WAITING)
        .select_related("jam")
        .prefetch_related("options")
        .order_by("-pk")
    )
    inner = "".join(render_poll(poll) for poll in polls)
    voter = ""
    if user is not None and user.is_authenticated:
        mine = escape(reverse("polls:mine", args=[jam.slug]))
        voter = f' data-can-vote data-mine-url="{mine}"'
    if can_close:  # the host and moderators get "Close the poll now" (polls.js)
        url = reverse("polls:close", args=[jam.slug, 0])
        voter += f' data-close-url="{escape(url)}"'
    return mark_safe(f'<div id="polls" class="polls"{voter}>{inner}</div>')


@register.inclusion_tag("polls/_launch.html", takes_context=True)
def poll_launch_form(context: Any, jam: Any) -> dict[str, Any]:
    return {
        "jam": jam,
        "option_slots": range(1, MAX_OPTIONS + 1),
        "x_on": x_runs(jam_id=jam.pk),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("polls/_run_sheet.html", takes_context=True)
def poll_run_sheet(context: Any, jam: Any) -> dict[str, Any]:
    return {
        "jam": jam,
        "polls": list(
            Poll.objects.filter(jam_id=jam.pk, offset_minutes__isnull=False)
            .prefetch_related("options")
            .order_by("offset_minutes", "pk")
        ),
        "option_slots": range(1, MAX_OPTIONS + 1),
        "x_on": x_runs(jam_id=jam.pk),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
