"""Reading saved X API v2 search results into import rows, one post at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jamhost.networks.x.text import tweet_text, x_unescape
from jamhost.posts.models import AuthorRole, Source
from jamhost.posts.weblinks import avatar_url, web_url
from jamhost.transcripts.import_parse import (
    HANDLE,
    MAX_TEXT,
    ImportRefused,
    ImportRow,
    Problem,
    Problems,
    Progress,
    parse_time,
    text_chunks,
)
from jamhost.transcripts.import_stream import (
    JsonReader,
    Readable,
    StreamProblem,
)

PAGE = 'a page of X search results ({"data": [...], "includes": {"users": [...]}})'


def rows_from_x_json(
    source: Readable,
    *,
    host_handle: str = "",
    panelists: tuple[str, ...] = (),
    progress: Progress | None = None,
) -> list[ImportRow]:
    """Rows of saved X API v2 search results: one response ({"data": [...], "includes":
    {"users": [...]}}) or a list of them (one per page). Retweets are left out; the
    host's and panelists' handles give them their roles. Read once, as a stream, one post
    at a time: a post waits only until its page's users are read. Raises ImportRefused."""
    chunks = text_chunks(source)
    reader = JsonReader(iter(chunks))
    problems = Problems()
    authors = _Authors(
        host=host_handle.strip().lstrip("@").lower(),
        panel={p.strip().lstrip("@").lower() for p in panelists if p.strip()},
    )
    rows: list[ImportRow] = []
    seen: set[str] = set()
    waiting: list[tuple[Any, int, int]] = []  # (post, index in the file, line)
    count = 0

    def settle(*, final: bool) -> None:
        nonlocal waiting
        still: list[tuple[Any, int, int]] = []
        for tweet, index, line in waiting:
            if not final and isinstance(tweet, dict) and not authors.knows(tweet):
                still.append((tweet, index, line))
                continue
            row = _x_row(tweet, index, line, authors, problems)
            if row is not None and row.link not in seen:
                seen.add(row.link)
                rows.append(row)
        waiting = still

    def page() -> None:
        nonlocal count
        for key in reader.members(PAGE):
            if key == "data":
                for _ in reader.elements('"data", a list of posts'):
                    tweet, start, end = reader.value()
                    waiting.append((tweet, count, _id_line(reader, tweet, start, end)))
                    count += 1
                    if progress and count % 1000 == 0:
                        progress(count, chunks.bytes_read)
            elif key == "includes":
                includes, _, _ = reader.value()
                authors.add_from(includes)
            else:
                reader.value()
        settle(final=False)

    try:
        if reader.peek() == "[":
            for _ in reader.elements("a list of pages"):
                page()
        else:
            page()
        reader.end()
    except StreamProblem as exc:
        raise ImportRefused([Problem(exc.line, exc.message)]) from None
    settle(final=True)
    problems.raise_any()
    if not rows:
        raise ImportRefused([Problem(0, "The file holds no posts (retweets are left out).")])
    rows.sort(key=lambda r: (r.time, int(r.metrics.get("id", "0"))))
    for seq, row in enumerate(rows, start=1):
        row.seq = seq
    seq_of = {str(row.metrics["id"]): row.seq for row in rows}
    for row in rows:
        parent = seq_of.get(row.replied_to)
        if parent is not None and row.seq is not None and parent < row.seq:
            row.reply_to = parent  # a reply to a post in the file stays a reply
    if progress:
        progress(count, chunks.bytes_read)
    return rows


def _id_line(reader: JsonReader, tweet: Any, start: int, end: int) -> int:
    """The line of the post's id in the file (else of the post's start)."""
    tweet_id = str(tweet.get("id", "")) if isinstance(tweet, dict) else ""
    at = reader.buf.find(f'"{tweet_id}"', start, end) if tweet_id else -1
    return reader.line_at(at if at >= 0 else start)


@dataclass
class _Authors:
    """The users of includes.users read so far, and who hosts and who is on the panel."""

    host: str
    panel: set[str]
    users: dict[str, dict[str, str]] = field(default_factory=dict)

    def add_from(self, includes: Any) -> None:
        if not isinstance(includes, dict):
            return
        for user in includes.get("users") or []:
            if isinstance(user, dict) and "id" in user:
                self.users[str(user["id"])] = {
                    "id": str(user["id"]),
                    "username": str(user.get("username", "")),
                    "name": str(user.get("name", "")),
                    "profile_image_url": str(user.get("profile_image_url", "")),
                }

    def knows(self, tweet: dict[str, Any]) -> bool:
        return str(tweet.get("author_id", "")) in self.users


def _x_row(
    tweet: Any, index: int, line: int, authors: _Authors, problems: Problems
) -> ImportRow | None:
    if not isinstance(tweet, dict):
        problems.add(line, f"post {index + 1} in data is not an object.")
        return None
    tweet_id = str(tweet.get("id", ""))
    host, panel, users = authors.host, authors.panel, authors.users
    where = f"post {tweet_id or index + 1}: "
    if any(ref.get("type") == "retweeted" for ref in tweet.get("referenced_tweets") or []):
        return None
    if not tweet_id.isdigit():
        problems.add(line, f"{where}its id is missing or not a number.")
        return None
    # Saved X answers hold text as X sends it: &, <, > escaped, links as t.co.
    note = (tweet.get("note_tweet") or {}).get("text")
    body = (x_unescape(str(note)) if note else tweet_text(tweet)).strip()
    moment = parse_time(str(tweet.get("created_at") or ""))
    user = users.get(str(tweet.get("author_id", "")))
    if moment is None:
        problems.add(
            line, f"{where}created_at is missing or not a time (ask for tweet.fields=created_at)."
        )
    if user is None:
        problems.add(
            line, f"{where}its author is not in includes.users (ask for expansions=author_id)."
        )
    if not body:
        problems.add(line, f"{where}its text is empty.")
    elif len(body) > MAX_TEXT:
        problems.add(
            line, f"{where}its text has {len(body):,} characters; the limit is {MAX_TEXT:,}."
        )
    if moment is None or user is None or not body or len(body) > MAX_TEXT:
        return None
    handle = str(user.get("username", ""))
    if not HANDLE.match(handle):
        problems.add(line, f"{where}its author's username “{handle}” is not a handle.")
        return None
    role = (
        AuthorRole.HOST
        if handle.lower() == host
        else AuthorRole.PANELIST
        if handle.lower() in panel
        else AuthorRole.PARTICIPANT
    )
    urls = [  # web addresses only: a javascript: or data: URL never becomes a link
        url
        for u in (tweet.get("entities") or {}).get("urls") or []
        if isinstance(u, dict) and (url := web_url(str(u.get("expanded_url") or u.get("url"))))
    ]
    metrics: dict[str, Any] = {
        k: v for k, v in (tweet.get("public_metrics") or {}).items() if isinstance(v, int)
    }
    metrics["id"] = tweet_id
    replied_to = next(
        (
            str(ref.get("id", ""))
            for ref in tweet.get("referenced_tweets") or []
            if isinstance(ref, dict) and ref.get("type") == "replied_to"
        ),
        "",
    )
    return ImportRow(
        line=line,
        seq=None,
        time=moment,
        question=None,
        handle=handle,
        name=str(user.get("name", ""))[:120],
        role=role,
        text=body,
        source=Source.X,
        link=f"https://x.com/{handle}/status/{tweet_id}",
        author_key=f"x:{user['id']}",
        avatar_url=avatar_url(str(user.get("profile_image_url", ""))),
        links=urls,
        metrics=metrics,
        lang=str(tweet.get("lang", ""))[:12],
        replied_to=replied_to,
    )
