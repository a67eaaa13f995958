"""Parsed snapshots kept in this process.

A stored transcript version never changes, so its parsed snapshot and what is derived from
it (insights, the replay's rendered posts) can be reused for as long as the row's hash is
the same. Only a few are kept (a 10,000-post snapshot is tens of MB parsed), least
recently used out. Entries are checked against their hash when loaded, so what is here
has passed the check.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from jamhost.transcripts.snapshot import Snapshot

MAX_ENTRIES = 4
_entries: LRUCache[tuple[int, str], Parsed] = LRUCache(maxsize=MAX_ENTRIES)
_lock = threading.Lock()


@dataclass
class Parsed:
    snapshot: Snapshot
    derived: dict[Any, Any] = field(default_factory=dict)


def parsed_get(key: tuple[int, str]) -> Parsed | None:
    with _lock:
        return _entries.get(key)


def parsed_put(key: tuple[int, str], snapshot: Snapshot) -> Parsed:
    with _lock:
        entry = _entries.get(key) or Parsed(snapshot)
        _entries[key] = entry
        return entry


def memo_clear() -> None:
    with _lock:
        _entries.clear()
