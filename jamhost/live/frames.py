"""Live frames and the objects they carry. A frame is the jam's header, a post (or its
removal marker), or the header followed by a post, each part with its key beside its
html; catch-up works on the parts."""

from __future__ import annotations

from django.utils.html import format_html


def caught_up_marker(rev: int) -> str:
    return format_html('<div class="caught-up" data-rev="{}" hidden></div>', rev)


# Catch-up works on the objects frames carry: (rev, key, html), the key being HEADER_KEY
# for the jam's header and post_key(id) for a post or its removal marker (None: anything
# else). A frame is the header, a post, or the header followed by a post (live.publish).
Part = tuple[int, str | None, str]
HEADER_KEY = "header"

# A frame as the bus carries it: its objects in order, each (key, html). The publisher
# names the keys (live.publish); nothing reads them back out of the html. The text a
# socket receives is the html joined.
Frame = tuple[tuple[str | None, str], ...]


def post_key(post_id: int | str) -> str:
    return f"post-{post_id}"


def frame_text(frame: Frame) -> str:
    return "".join(html for _, html in frame)


def frame_encode(*, rev: int, sent_at: float, frame: Frame) -> str:
    """The Redis payload: `<rev>@<publish time>|<key>=<chars>,…:<html>`, each key with the
    length of its html (a key of None is empty). Keys and lengths hold no ':'."""
    keys = ",".join(f"{key or ''}={len(html)}" for key, html in frame)
    return f"{rev}@{sent_at:.3f}|{keys}:{frame_text(frame)}"


def frame_decode(data: bytes) -> tuple[int, float | None, Frame]:
    """(rev, publish time, frame) of a Redis payload; ValueError when it is malformed. A
    payload without keys is one part without a key."""
    stamp, body = data.split(b":", 1)
    head, _, keys = stamp.partition(b"|")
    rev_part, _, sent_part = head.partition(b"@")
    text = body.decode()
    if not keys:
        return int(rev_part), float(sent_part) if sent_part else None, ((None, text),)
    parts: list[tuple[str | None, str]] = []
    start = 0
    for item in keys.decode().split(","):
        key, _, length = item.rpartition("=")
        end = start + int(length)
        parts.append((key or None, text[start:end]))
        start = end
    if start != len(text):
        raise ValueError("the frame's keys do not cover its html")
    return int(rev_part), float(sent_part) if sent_part else None, tuple(parts)


def frames_of(parts: list[Part]) -> list[tuple[int, Frame]]:
    """Parts (in rev order) as frames: the parts of one rev make one frame."""
    frames: list[tuple[int, Frame]] = []
    for rev, key, html in parts:
        if frames and frames[-1][0] == rev:
            frames[-1] = (rev, (*frames[-1][1], (key, html)))
        else:
            frames.append((rev, ((key, html),)))
    return frames


def frames_by_rev(parts: list[Part]) -> list[tuple[int, str]]:
    """[(rev, html)] with the parts of one rev (in rev order) joined into one frame."""
    frames: list[tuple[int, str]] = []
    for rev, _key, html in parts:
        if frames and frames[-1][0] == rev:
            frames[-1] = (rev, frames[-1][1] + html)
        else:
            frames.append((rev, html))
    return frames
