"""Reads of jams that more than one caller needs, with their related objects decided once."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from jamhost.jams.models import Jam, JamStatus


def jam_list_live() -> QuerySet[Jam]:
    return Jam.objects.filter(status=JamStatus.LIVE).select_related("host").order_by("starts_at")


def jam_list_upcoming() -> QuerySet[Jam]:
    return (
        Jam.objects.filter(status=JamStatus.SCHEDULED, starts_at__gte=timezone.now())
        .select_related("host")
        .order_by("starts_at")
    )


def jam_list_past() -> QuerySet[Jam]:
    return (
        Jam.objects.filter(status__in=[JamStatus.ENDED, JamStatus.ARCHIVED])
        .select_related("host")
        .order_by("-starts_at")
    )
