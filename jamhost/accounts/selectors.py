"""Reads for a person's own account page."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from jamhost.jams.models import Jam


def account_jams_posted_in(*, user: Any) -> list[Jam]:
    """The jams the user has posted in, latest start first, each with `own_posts` (how
    many of the user's posts it holds) and its deletion policy: what deleting the account
    would do there. One query."""
    return list(
        Jam.objects.filter(posts__author_id=user.pk)
        .annotate(own_posts=Count("posts"))
        .order_by("-starts_at", "pk")
    )
