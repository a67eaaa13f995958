"""The Atom feed of upcoming jams, with Django's syndication framework."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from jamhost.jams.models import Jam
from jamhost.jams.selectors import jam_list_upcoming

FEED_SIZE = 50


class PlainTextAtomFeed(Atom1Feed):
    """Atom with each entry's summary sent as text. Django's Atom1Feed marks summaries
    type="html", so a feed reader would render a host's "<img onerror=…>" description as
    HTML; as text it shows exactly what was typed."""

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"] is not None:
            handler.addQuickElement("summary", item["description"], {"type": "text"})


class UpcomingJamsFeed(Feed):
    feed_type = PlainTextAtomFeed
    title = "Upcoming Tweet Jams on jamhost"
    subtitle = "Scheduled jams: an hour of questions and answers under one hashtag."

    def link(self) -> str:
        return settings.SITE_URL + reverse("jams:list")

    def feed_url(self) -> str:
        return settings.SITE_URL + reverse("jams:feed_upcoming")

    def feed_guid(self) -> str:
        return self.feed_url()

    def items(self) -> QuerySet[Jam]:
        return jam_list_upcoming()[:FEED_SIZE]

    def item_title(self, item: Jam) -> str:
        return f"{item.title} ({item.tag})"

    def item_description(self, item: Jam) -> str:
        when = f"Starts {item.starts_at:%Y-%m-%d %H:%M} UTC, {item.duration_minutes} minutes."
        return f"{when} {item.description}".strip()

    def item_link(self, item: Jam) -> str:
        return settings.SITE_URL + item.get_absolute_url()

    def item_guid(self, item: Jam) -> str:
        return self.item_link(item)

    def item_author_name(self, item: Jam) -> str:
        return item.host.get_full_name() or item.host.get_username()

    def item_pubdate(self, item: Jam) -> datetime:
        return item.created_at

    def item_updateddate(self, item: Jam) -> datetime:
        return item.updated_at

    def item_categories(self, item: Jam) -> list[str]:
        return [item.hashtag]
