"""The transcript snapshot: what a jam looked like when it was archived, as canonical JSON.

The snapshot is a pure function of database state: the same rows give byte-identical
content and the same hash, whichever process builds it and however often. So nothing in it
depends on the clock, on the jam's status or on its change counters, and every list has a
fixed order (posts by seq, questions by number, panelists by handle). It is built with a
fixed number of queries, whatever the number of posts.

The layout is documented by schema/transcript-v1.json (the JSON export is the snapshot).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Q

from jamhost.core import hooks
from jamhost.jams.models import Jam, Membership, Role
from jamhost.jams.selectors import released_filter
from jamhost.posts.models import (
    DELETED_AUTHOR_PREFIX,
    Kind,
    Post,
    PostStatus,
    Source,
    app_author_key,
)
from jamhost.posts.weblinks import web_url

SCHEMA_VERSION = 1
SCHEMA_ID = "https://jamhost.org/schema/transcript-v1.json"
URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
URL_TRAILING = ".,;:!?)]}'\""
LEAD_ROLES = ("host", "panelist")
ELSEWHERE_STATUSES = ("published", "queued", "held", "failed")

Snapshot = dict[str, Any]


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z; microseconds only when there are any."""
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat() is several times faster than strftime() and drops zero microseconds.
    return moment.replace(tzinfo=None).isoformat() + "Z"


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def urls_in(text: str) -> list[str]:
    found = []
    for match in URL_RE.findall(text):
        url = match.rstrip(URL_TRAILING)
        if url and url not in found:
            found.append(url)
    return found


def x_status_link(handle: str, status_id: str | None) -> str:
    if status_id and status_id.isdigit():
        return f"https://x.com/{handle}/status/{status_id}"
    return ""


def post_link(
    *,
    source: str,
    handle: str,
    external_id: str | None,
    x_post_id: str | None,
    metrics: dict[str, Any],
    remote_url: str = "",
) -> str:
    """Where the post can be read on its network: the X, Bluesky or Mastodon post it came
    from, or the X post it was published as; for imported posts, the address the import
    file gave."""
    if source in (Source.BLUESKY, Source.MASTODON):
        return web_url(remote_url)
    if source == Source.X and external_id:
        return x_status_link(handle, external_id)
    if x_post_id:
        return x_status_link(handle, x_post_id)
    link = metrics.get("link")
    return link if isinstance(link, str) else ""


_POST_FIELDS = (
    "seq",
    "created_at",
    "kind",
    "question__number",
    "author_key",
    "author_handle",
    "author_name",
    "author_avatar_url",
    "author_role",
    "body",
    "text",
    "source",
    "external_id",
    "on_x__x_id",
    "remote_url",
    "author_url",
    "elsewhere",
    "pinned",
    "featured",
    "links",
    "metrics",
    "lang",
    "upvotes",
    "reply_to__seq",
)


def snapshot_build(jam: Jam) -> Snapshot:
    """The jam's snapshot from the database: a fixed number of queries whatever the number
    of posts (five, and one more for polls when it has any: hooks.snapshot_parts)."""
    questions = list(
        jam.questions.filter(released_filter())
        .order_by("number")
        .values_list("number", "text", "released_at")
    )
    panelists = sorted(
        Membership.objects.filter(jam=jam, role=Role.PANELIST).values_list(
            "user__username", "user__first_name", "user__last_name", "user_id"
        )
    )
    not_shown = Post.objects.filter(jam=jam).aggregate(
        hidden=Count("pk", filter=Q(status=PostStatus.HIDDEN)),
        pending=Count("pk", filter=Q(status=PostStatus.PENDING)),
    )
    rows = (
        Post.objects.filter(jam=jam, status=PostStatus.VISIBLE)
        .order_by("seq")
        .values_list(*_POST_FIELDS)
    )
    posts = [_post_entry(dict(zip(_POST_FIELDS, row, strict=True))) for row in rows]
    host = jam.host
    snapshot: Snapshot = {
        "schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "jam": {
            "slug": jam.slug,
            "title": jam.title,
            "hashtag": jam.hashtag,
            "description": jam.description,
            "host": {"handle": host.get_username(), "name": host.get_full_name()},
            "starts_at": iso_utc(jam.starts_at),
            "duration_minutes": jam.duration_minutes,
            "went_live_at": iso_utc(jam.went_live_at),
            "ended_at": iso_utc(jam.ended_at),
            "panelists": [
                {
                    "handle": handle,
                    "name": f"{first} {last}".strip(),
                    "key": app_author_key(user_id),
                }
                for handle, first, last, user_id in panelists
            ],
        },
        "questions": [
            {"number": number, "text": text, "released_at": iso_utc(released_at)}
            for number, text, released_at in questions
        ],
        "posts": posts,
        "not_shown": {"hidden": not_shown["hidden"], "pending": not_shown["pending"]},
        "counts": {
            "posts": len(posts),
            "authors": len({p["author"]["key"] for p in posts}),
            "questions": len(questions),
        },
    }
    for more in hooks.snapshot_parts:  # what other apps add to the record (polls)
        snapshot.update(more(jam))
    return snapshot


def _post_entry(row: dict[str, Any]) -> dict[str, Any]:
    metrics = dict(row["metrics"] or {})
    link = post_link(
        source=row["source"],
        handle=row["author_handle"],
        external_id=row["external_id"],
        x_post_id=row["on_x__x_id"] if row["source"] == Source.APP else None,
        metrics=metrics,
        remote_url=row["remote_url"],
    )
    deleted = row["author_key"].startswith(DELETED_AUTHOR_PREFIX)
    if deleted:
        link = ""  # the X post's address leads to the account its author deleted here
    metrics.pop("link", None)  # imported posts keep their address there; it is `link` here
    if row["upvotes"]:
        metrics["upvotes"] = row["upvotes"]
    # X gives links expanded (t.co resolved); local posts carry them in their text.
    links = [str(u) for u in row["links"]] if row["links"] else urls_in(row["text"])
    author = {
        "key": row["author_key"],
        "handle": row["author_handle"],
        "name": row["author_name"],
        "role": row["author_role"],
        "avatar_url": row["author_avatar_url"],
    }
    # Added with Bluesky and Mastodon, only when there is something: snapshots of jams
    # without them stay byte-identical, and older snapshots read the same.
    profile = "" if deleted else web_url(row["author_url"])
    if profile:
        author["url"] = profile
    entry = {
        "seq": row["seq"],
        "time": iso_utc(row["created_at"]),
        "kind": row["kind"],
        "question": row["question__number"],
        "author": author,
        "text": row["text"],
        "body": row["body"],
        "source": row["source"],
        "link": link,
        "links": links,
        "metrics": metrics,
        "pinned": row["pinned"],
        "featured": row["featured"],
        "lang": row["lang"],
        "reply_to": row["reply_to__seq"],
    }
    elsewhere = elsewhere_entry(row["elsewhere"], deleted=deleted)
    if elsewhere:
        entry["elsewhere"] = elsewhere
    return entry


def elsewhere_entry(found: Any, *, deleted: bool) -> dict[str, dict[str, str]]:
    """Where a jamhost post went besides X, as the transcript keeps it: each network's
    status, and its address (http(s) only, none once the author deleted their account).
    The X post it went out as is the entry's `link`, as in every earlier snapshot."""
    out: dict[str, dict[str, str]] = {}
    for key, value in sorted((found or {}).items()) if isinstance(found, dict) else ():
        if key == "x" or not isinstance(value, dict):
            continue
        if value.get("status") not in ELSEWHERE_STATUSES:
            continue
        url = "" if deleted else web_url(str(value.get("url") or ""))
        out[str(key)] = {"status": str(value["status"]), "url": url}
    return out


def snapshot_encode(snapshot: Snapshot) -> str:
    """Canonical JSON: sorted keys, no insignificant spaces, UTF-8 characters as they are."""
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def search_text(snapshot: Snapshot) -> str:
    jam = snapshot["jam"]
    parts = [jam["title"], f"#{jam['hashtag']}", jam["description"]]
    parts += [q["text"] for q in snapshot["questions"]]
    parts += [p["text"] for p in snapshot["posts"]]
    return "\n".join(part for part in parts if part)


@dataclass
class Section:
    """One question of the transcript (or, with no question, the posts tied to none).

    `lead` and `community` hold the answers; replies are not among them. A reply (a side
    conversation) is kept in `threads`, under the seq of the answer it hangs under."""

    question: dict[str, Any] | None
    question_post: dict[str, Any] | None = None
    lead: list[dict[str, Any]] = field(default_factory=list)
    community: list[dict[str, Any]] = field(default_factory=list)
    threads: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"Q{self.question['number']}" if self.question else "Other posts"

    @property
    def anchor(self) -> str:
        return f"q{self.question['number']}" if self.question else "other"

    @property
    def answers(self) -> list[dict[str, Any]]:
        return self.lead + self.community

    @property
    def reply_count(self) -> int:
        return sum(len(thread) for thread in self.threads.values())

    def thread(self, post: dict[str, Any]) -> list[dict[str, Any]]:
        """The replies under `post`, in reading order (each followed by its own replies)."""
        return self.threads.get(post["seq"], [])


def is_lead(post: dict[str, Any]) -> bool:
    return bool(post["featured"]) or post["author"]["role"] in LEAD_ROLES


def is_reply(post: dict[str, Any], shown: set[int]) -> bool:
    """A reply to a post of the transcript (a side conversation). A reply to a question's
    post is an answer (on X, replying to the question is one way to answer it), and a reply
    to a post that is not shown stays where its question puts it."""
    parent = post.get("reply_to")
    return parent in shown and parent < post["seq"]


def threadable(snapshot: Snapshot) -> set[int]:
    """The seqs of the posts a reply can hang under: every shown post but the questions'."""
    return {post["seq"] for post in snapshot["posts"] if post["kind"] == Kind.POST}


def snapshot_sections(snapshot: Snapshot) -> list[Section]:
    """Posts grouped by question: the question, then featured and panelist (and host)
    answers, then the community, each in seq order. Posts tied to no question come
    first, as "Other posts" (introductions, chat between questions). A reply is not an
    answer: it is threaded under the post it answers, in seq order, in whichever section
    that post is (a reply to a reply, from X, under the reply)."""
    sections = {q["number"]: Section(question=q) for q in snapshot["questions"]}
    other = Section(question=None)
    shown = threadable(snapshot)
    replies: dict[int, list[dict[str, Any]]] = {}
    home: dict[int, Section] = {}
    for post in snapshot["posts"]:
        if is_reply(post, shown):
            replies.setdefault(post["reply_to"], []).append(post)
            continue
        section = sections.get(post["question"], other)
        home[post["seq"]] = section
        if post["kind"] == Kind.QUESTION and section.question and section.question_post is None:
            section.question_post = post
        elif is_lead(post):
            section.lead.append(post)
        else:
            section.community.append(post)
    for section in [other, *sections.values()]:
        section.lead.sort(key=lambda p: (not p["featured"], p["seq"]))
    for root, section in home.items():
        if root in replies:
            section.threads[root] = _thread(root, replies)
    return ([other] if other.answers else []) + list(sections.values())


def _thread(root: int, replies: dict[int, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The replies under `root`, each followed by its own replies, depth first."""
    out: list[dict[str, Any]] = []
    stack = list(reversed(replies.get(root, [])))
    while stack:
        post = stack.pop()
        out.append(post)
        stack.extend(reversed(replies.get(post["seq"], [])))
    return out
