"""Add the demo jam's other networks (`make run`, after `manage.py demo`): the jam runs on
X, Bluesky and a Mastodon instance, and a few posts from each arrive through the same
storing path as ingest (networks.tweets for X's API shape, networks.remote_store for the
others), with their badges, links and threads. Nothing is fetched: the demo works offline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from jamhost.jams.models import Jam
from jamhost.networks.models import JamNetwork, Network
from jamhost.networks.remote import RemoteAuthor, RemotePost
from jamhost.networks.remote_store import StoreResult, page_store
from jamhost.networks.tweets import PollResult
from jamhost.networks.tweets import page_store as x_page_store

DEMO_SLUG = "demo-remote-work-jam"
MASTODON_DEMO = "https://mastodon.example"

BLUESKY = [
    (
        "did:plc:demoaiko",
        "aiko.bsky.social",
        "Aiko Tanaka",
        "A1: No commute means my first hour goes to writing. Best trade I ever made. #JamhostDemo",
    ),
    (
        "did:plc:demoluis",
        "luis.bsky.social",
        "Luis Ortega",
        "Joining from Bluesky! A2: a team wiki nobody is afraid to edit. #JamhostDemo",
    ),
]
MASTODON = [
    (
        "https://mastodon.example/users/noor",
        "noor@mastodon.example",
        "Noor",
        "A1: Standing desk, window, and notifications off until ten. #JamhostDemo",
    ),
    (
        "https://mastodon.example/users/ben",
        "ben@mastodon.example",
        "Ben K.",
        "A2: Plain text notes in git. Searchable forever, no vendor. #JamhostDemo",
    ),
]
X_POSTS = [
    (
        "9001",
        "demo_xavier",
        "Xavier",
        "A1: Walk at 9, calls at 11, deep work after lunch. #JamhostDemo",
    ),
]


class Command(BaseCommand):
    help = "Give the demo jam posts from X, Bluesky and Mastodon (run after `demo`)."

    def handle(self, *args: Any, **options: Any) -> None:
        jam = Jam.objects.filter(slug=DEMO_SLUG).first()
        if jam is None:
            raise CommandError("No demo jam: run `manage.py demo` first.")
        bluesky, _ = JamNetwork.objects.get_or_create(jam=jam, network=Network.BLUESKY)
        mastodon, _ = JamNetwork.objects.get_or_create(
            jam=jam, network=Network.MASTODON, service=MASTODON_DEMO
        )
        now = timezone.now() - timedelta(minutes=3)
        result = StoreResult()
        posts = []
        for i, (did, handle, name, text) in enumerate(BLUESKY):
            rkey = f"3demo{i}post"
            posts.append(
                RemotePost(
                    remote_id=f"at://{did}/app.bsky.feed.post/{rkey}",
                    url=f"https://bsky.app/profile/{handle}/post/{rkey}",
                    author=RemoteAuthor(
                        did, handle, name, "", f"https://bsky.app/profile/{handle}"
                    ),
                    text=text,
                    created_at=now + timedelta(seconds=20 * i),
                    tags=("jamhostdemo",),
                )
            )
        page_store(bluesky, posts, [], result)
        posts = []
        for i, (uri, handle, name, text) in enumerate(MASTODON):
            user = handle.split("@")[0]
            posts.append(
                RemotePost(
                    remote_id=f"{uri}/statuses/11{i}",
                    url=f"{MASTODON_DEMO}/@{user}/11{i}",
                    author=RemoteAuthor(uri, handle, name, "", f"{MASTODON_DEMO}/@{user}"),
                    text=text,
                    created_at=now + timedelta(seconds=30 + 20 * i),
                    tags=("jamhostdemo",),
                )
            )
        page_store(mastodon, posts, [], result)
        body = {
            "data": [
                {
                    "id": tid,
                    "text": text,
                    "author_id": f"u{tid}",
                    "created_at": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                }
                for tid, _handle, _name, text in X_POSTS
            ],
            "includes": {
                "users": [
                    {"id": f"u{tid}", "username": handle, "name": name}
                    for tid, handle, name, _text in X_POSTS
                ]
            },
        }
        x_page_store(jam, body, PollResult())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo jam on X, Bluesky and {MASTODON_DEMO}: {result.stored} network posts added."
            )
        )
