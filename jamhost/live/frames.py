"""Live frames and the objects they carry. A frame is the jam's header, a post (or its
removal marker), or the header followed by a post; catch-up works on its parts."""

from __future__ import annotations

import re

from django.utils.html import format_html


def caught_up_marker(rev: int) -> str:
    return format_html('<div class="caught-up" data-rev="{}" hidden></div>', rev)


# Catch-up works on the objects frames carry: (rev, key, html), the key being HEADER_KEY
# for the jam's header and post_key(id) for a post or its removal marker (None: anything
# else). A frame is the header, a post, or the header followed by a post (live.publish).
Part = tuple[int, str | None, str]
HEADER_KEY = "header"
HEADER_START = '<section id="jam-header"'
_POST_START = re.compile(r'<article class="post |<div class="post-removed"')
_POST_ID = re.compile(r'\bid="post-(\d+)"|\bdata-post="(\d+)"')


def post_key(post_id: int | str) -> str:
    return f"post-{post_id}"


def frame_parts(text: str) -> list[tuple[str | None, str]]:
    """The objects a published frame carries, as (key, html), read from its text."""
    start = _POST_START.search(text)
    if start is None:
        return [(HEADER_KEY if text.lstrip().startswith(HEADER_START) else None, text)]
    parts: list[tuple[str | None, str]] = []
    head = text[: start.start()]
    if head.strip():
        parts.append((HEADER_KEY if head.lstrip().startswith(HEADER_START) else None, head))
    found = _POST_ID.search(text, start.start())
    parts.append(
        (post_key(found.group(1) or found.group(2)) if found else None, text[start.start() :])
    )
    return parts


def frames_by_rev(parts: list[Part]) -> list[tuple[int, str]]:
    """[(rev, html)] with the parts of one rev (in rev order) joined into one frame."""
    frames: list[tuple[int, str]] = []
    for rev, _key, html in parts:
        if frames and frames[-1][0] == rev:
            frames[-1] = (rev, frames[-1][1] + html)
        else:
            frames.append((rev, html))
    return frames
