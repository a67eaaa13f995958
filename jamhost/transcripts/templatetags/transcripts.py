from __future__ import annotations

from datetime import datetime

from django import template
from django.template import Context
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from jamhost.jams.models import Jam
from jamhost.transcripts.cards import jam_card
from jamhost.transcripts.snapshot import parse_iso

register = template.Library()


@register.filter
def iso_datetime(value: str | None) -> datetime | None:
    """A snapshot time (ISO 8601 text) as a datetime, for the `date` filter."""
    return parse_iso(value) if value else None


@register.simple_tag(takes_context=True)
def jam_card_meta(context: Context, jam: Jam) -> SafeString:
    """The jam page's link preview metadata (Open Graph, X card), for its <head>."""
    card, _ = jam_card(jam, context.get("request"))
    return render_to_string("transcripts/_card_meta.html", {"card": card})
