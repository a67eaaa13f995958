"""The Atom feed of upcoming jams, with Django's syndication framework."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from jamhost.jams.models import Jam
from jamhost.jams.selectors import jam_list_upcoming
from jamhost.links import site_root

FEED_SIZE = 50


@dataclass(frozen=True)
class Entry:
    """A jam in the feed, with the address its links start with (the feed object is
    shared by every request, so the request's address travels with the entries)."""

    root: str
    jam: Jam


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

    def get_object(self, request: HttpRequest) -> str:
        return site_root(request)

    def link(self, root: str) -> str:
        return root + reverse("jams:list")

    def feed_url(self, root: str) -> str:
        return root + reverse("jams:feed_upcoming")

    def feed_guid(self, root: str) -> str:
        return self.feed_url(root)

    def items(self, root: str) -> list[Entry]:
        return [Entry(root, jam) for jam in jam_list_upcoming()[:FEED_SIZE]]

    def item_title(self, item: Entry) -> str:
        return f"{item.jam.title} ({item.jam.tag})"

    def item_description(self, item: Entry) -> str:
        jam = item.jam
        when = f"Starts {jam.starts_at:%Y-%m-%d %H:%M} UTC, {jam.duration_minutes} minutes."
        return f"{when} {jam.description}".strip()

    def item_link(self, item: Entry) -> str:
        return item.root + item.jam.get_absolute_url()

    def item_guid(self, item: Entry) -> str:
        return self.item_link(item)

    def item_author_name(self, item: Entry) -> str:
        return item.jam.host.get_full_name() or item.jam.host.get_username()

    def item_pubdate(self, item: Entry) -> datetime:
        return item.jam.created_at

    def item_updateddate(self, item: Entry) -> datetime:
        return item.jam.updated_at

    def item_categories(self, item: Entry) -> list[str]:
        return [item.jam.hashtag]
