"""What a hub keeps for each live (jam, audience): its local sockets, the last rev it
delivered, frames waiting for a gap to fill, and the history of frames it delivered
recently, from which sockets that join later catch up (see jamhost.live.fanout)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from jamhost import metrics
from jamhost.live.frames import Frame, Part, frame_text, frames_by_rev

# Frames a group keeps for catch-up: a minute of a busy jam. Older cursors read the rest
# from the database (once per cursor, cached).
HISTORY = 1200


class LiveSocket(Protocol):
    def deliver(self, rev: int | None, text: str) -> None:
        """Queue a frame for the socket; never blocks. rev None: not stamped."""


@dataclass(eq=False)
class Group:
    jam_id: int
    audience: str
    sockets: set[LiveSocket] = field(default_factory=set)
    last_rev: int | None = None
    pending: dict[int, Frame] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    gap_task: asyncio.Task[None] | None = None
    # Frames delivered after history_start, split into the objects they carry, and each
    # object's newest rev: catch-up sends an object's newest state only, so the text of
    # a post hidden since never reaches a socket that joins later.
    history: deque[Part] = field(default_factory=deque)
    history_start: int = 0
    newest: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, str]:
        return (self.jam_id, self.audience)

    def delivered(self, rev: int, frame: Frame) -> None:
        """Hand a frame to every socket and keep its parts for sockets that join later."""
        text = frame_text(frame)
        for socket in list(self.sockets):
            socket.deliver(rev, text)
        metrics.FRAMES_DELIVERED.inc(len(self.sockets))
        for key, part in frame:
            self.history.append((rev, key, part))
            if key is not None:
                self.newest[key] = rev
        while len(self.history) > HISTORY:
            rev, key, _ = self.history.popleft()
            self.history_start = rev
            if key is not None and self.newest.get(key) == rev:
                del self.newest[key]

    def current(self, parts: Iterable[Part]) -> list[tuple[int, str]]:
        """[(rev, html)] of the parts no newer frame in history supersedes."""
        newest = self.newest
        return frames_by_rev(
            [part for part in parts if part[1] is None or newest.get(part[1], 0) <= part[0]]
        )
