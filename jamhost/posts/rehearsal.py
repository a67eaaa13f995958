"""Replaying a recorded jam into a live one, at the recording's own pace: the first-run
demo (`make run`) and rehearsals (a host replays last month's transcript into a test jam).

A recording is a transcript in the JSON export's format (schema transcript-v1): its posts,
each with "time", "kind", "question", "author" and "text". Question releases release the
live jam's question of the same number; every other post is stored through
`posts.services.post_insert`, so it reaches screens exactly as a typed post does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from jamhost.jams import run_sheet
from jamhost.jams.answers import answer_number
from jamhost.jams.hashtags import text_has_hashtag
from jamhost.jams.models import Jam, JamStatus, Membership
from jamhost.posts.models import AuthorRole, Kind, Source
from jamhost.posts.services import post_insert

log = logging.getLogger(__name__)

DEMO_RECORDING = Path(__file__).resolve().parent / "demo" / "remote-work.json"
HANDLE = re.compile(r"^\w{1,80}$")
MAX_TEXT = 4000


class RecordingError(ValueError):
    """The file is not a recording jamhost can replay; the message says what to fix."""


@dataclass(frozen=True)
class RecordedPost:
    at: float  # seconds after the recording's first post
    kind: str
    question: int | None
    handle: str
    name: str
    role: str
    text: str


@dataclass(frozen=True)
class Recording:
    hashtag: str
    posts: list[RecordedPost]

    @property
    def seconds(self) -> float:
        return self.posts[-1].at if self.posts else 0.0


def _when(value: Any, index: int) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise RecordingError(f"post {index}: “time” must be an ISO 8601 time.") from exc


def recording_parse(raw: str) -> Recording:
    """Read a transcript JSON export as a recording. Raises RecordingError."""
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RecordingError(f"Not JSON (line {exc.lineno}): {exc.msg}.") from exc
    if not isinstance(document, dict) or not isinstance(document.get("posts"), list):
        raise RecordingError("Expected a transcript JSON export: an object with a “posts” list.")
    hashtag = str((document.get("jam") or {}).get("hashtag") or "").lstrip("#")
    entries: list[tuple[datetime, RecordedPost]] = []
    for index, post in enumerate(document["posts"], start=1):
        if not isinstance(post, dict):
            raise RecordingError(f"post {index}: expected an object.")
        author = post.get("author") or {}
        kind = post.get("kind", Kind.POST)
        if kind not in (Kind.POST, Kind.QUESTION):
            raise RecordingError(f"post {index}: “kind” is “post” or “question”.")
        question = post.get("question")
        if question is not None and not (isinstance(question, int) and question > 0):
            raise RecordingError(f"post {index}: “question” is a question number or null.")
        if kind == Kind.QUESTION and question is None:
            raise RecordingError(f"post {index}: a question release needs its number.")
        handle = str(author.get("handle") or "")
        if kind == Kind.POST and not HANDLE.match(handle):
            raise RecordingError(f"post {index}: the author needs a handle (letters, digits, _).")
        role = author.get("role") or AuthorRole.PARTICIPANT
        if role not in AuthorRole.values:
            raise RecordingError(f"post {index}: unknown role “{role}”.")
        text = str(post.get("text") or "").strip()
        if kind == Kind.POST and not text:
            raise RecordingError(f"post {index}: the text is empty.")
        recorded = RecordedPost(
            at=0.0,
            kind=kind,
            question=question,
            handle=handle,
            name=str(author.get("name") or "")[:120],
            role=role,
            text=text[:MAX_TEXT],
        )
        entries.append((_when(post.get("time"), index), recorded))
    if not entries:
        raise RecordingError("The recording has no posts.")
    entries.sort(key=lambda entry: entry[0])
    first = entries[0][0]
    posts = [
        RecordedPost(**{**vars(p), "at": (when - first).total_seconds()}) for when, p in entries
    ]
    return Recording(hashtag=hashtag, posts=posts)


def recording_load(path: Path) -> Recording:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordingError(f"Cannot read {path}: {exc.strerror}.") from exc
    return recording_parse(raw)


def _retagged(text: str, old: str, new: str) -> str:
    """The recorded text under the live jam's hashtag instead of the recording's."""
    if old and old.lower() != new.lower():
        text = re.sub(rf"#{re.escape(old)}\b", f"#{new}", text, flags=re.IGNORECASE)
    if not text_has_hashtag(text, new):
        text = f"{text} #{new}"
    return text


def recording_play_post(*, slug: str, recording: Recording, post: RecordedPost) -> bool:
    """Put one recorded post into the live jam `slug`. Returns False once the jam is not
    live (the replay stops there). A question the jam does not have, or has already
    released, is skipped."""
    jam = Jam.objects.select_related("host").filter(slug=slug).first()
    if jam is None or jam.status != JamStatus.LIVE:
        return False
    # A recording that does not say which question a post answers: its prefix does.
    number = post.question or (answer_number(post.text) if post.kind != Kind.QUESTION else None)
    question = jam.questions.filter(number=number).first() if number else None
    if post.kind == Kind.QUESTION:
        if question is not None and not question.is_released:
            run_sheet.question_release(question=question)
        return True
    user = get_user_model().objects.filter(username=post.handle).first()
    role = post.role
    if user is not None:
        member = Membership.objects.filter(jam=jam, user=user).first()
        role = member.role if member else AuthorRole.PARTICIPANT
        if user.pk == jam.host_id:
            role = AuthorRole.HOST
    post_insert(
        jam=jam,
        body=post.text,
        text=_retagged(post.text, recording.hashtag, jam.hashtag),
        author=user,
        author_key=None if user else f"replay:{post.handle}",
        author_handle=None if user else post.handle,
        author_name=None if user else post.name,
        author_role=role,
        question=question,
        source=Source.IMPORT,
    )
    return True


def recording_replay(
    *,
    slug: str,
    recording: Recording,
    speed: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Replay the whole recording into the live jam, blocking; returns how many posts were
    played (fewer when the jam stops being live first)."""
    started = time.monotonic()
    played = 0
    for post in recording.posts:
        wait = post.at / speed - (time.monotonic() - started)
        if wait > 0:
            sleep(wait)
        if not recording_play_post(slug=slug, recording=recording, post=post):
            break
        played += 1
    return played


async def recording_replay_async(
    *,
    slug: str,
    recording: Recording,
    speed: float = 1.0,
    loop: bool = False,
    pause: float = 20.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """The same on the server's own event loop (the embedded default's first-run demo):
    each post is stored in the sync thread, and its frame reaches this process's sockets.
    With `loop`, the recording plays again after `pause` seconds while the jam is live."""
    play = sync_to_async(recording_play_post, thread_sensitive=True)
    while True:
        started = asyncio.get_running_loop().time()
        for post in recording.posts:
            wait = post.at / speed - (asyncio.get_running_loop().time() - started)
            if wait > 0:
                await sleep(wait)
            try:
                alive = await play(slug=slug, recording=recording, post=post)
            except Exception:
                log.exception("replaying a recorded post into %s failed", slug)
                alive = True
            if not alive:
                return
        if not loop:
            return
        await sleep(pause)
