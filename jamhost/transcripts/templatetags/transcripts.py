from __future__ import annotations

from datetime import datetime

from django import template

from jamhost.transcripts.snapshot import parse_iso

register = template.Library()


@register.filter
def iso_datetime(value: str | None) -> datetime | None:
    """A snapshot time (ISO 8601 text) as a datetime, for the `date` filter."""
    return parse_iso(value) if value else None
