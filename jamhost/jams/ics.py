""" "Add to calendar": one jam as an iCalendar (.ics) file, made with `icalendar`."""

from __future__ import annotations

from datetime import UTC
from urllib.parse import urlparse

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from icalendar import Calendar, Event

from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_view
from jamhost.links import absolute_url


def jam_ical(jam: Jam, *, url: str) -> bytes:
    """The jam as a one-event calendar: start and end in UTC (the real ones once it has
    gone live or ended), a stable UID, and the
    jam page's absolute address `url`, so calendar apps update the event on a second
    import."""
    domain = urlparse(url).hostname or "jamhost"
    calendar = Calendar()
    calendar.add("prodid", "-//jamhost//Tweet Jams//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"jam-{jam.pk}@{domain}")
    event.add("dtstamp", timezone.now())
    # As planned until it goes live; then from when it went live to its real end.
    start, end = jam.run
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", f"{jam.title} ({jam.tag})")
    lines = [jam.description, f"Follow and join with {jam.tag}: {url}"]
    event.add("description", "\n\n".join(line for line in lines if line))
    event.add("url", url)
    event.add("location", url)
    calendar.add_component(event)
    return calendar.to_ical()


def jam_calendar(request: HttpRequest, slug: str) -> HttpResponse:
    jam = get_object_or_404(Jam, slug=slug)
    if not can_view(user=request.user, jam=jam):
        raise Http404("draft")
    url = absolute_url(jam.get_absolute_url(), request)
    response = HttpResponse(jam_ical(jam, url=url), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{jam.slug}.ics"'
    return response
