"""The event bus: how a lower app causes something in an app above it without importing
it (Zulip's `send_event_on_commit`).

A service sends a typed event; the apps that care subscribe to its type in their
AppConfig.ready(). Two ways to send:

- `send_on_commit(event)`: after the current transaction commits (nothing for one that
  rolls back), in the order the events were sent. Live screens hear of changes this way.
- `send(event)`: now, inside the sender's transaction, so what subscribers write commits
  or rolls back with it. It returns what the subscribers return, in subscription order:
  an event may ask a question (ElsewhereAsked) that an upper app answers.

Events carry model instances typed loosely (core imports no app); each event's docstring
says what its fields are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction


@dataclass(frozen=True)
class Event:
    """Base of every event."""


# After commit ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PostChanged(Event):
    """A post (posts.Post) was stored or changed with `rev`; `header_jam` (jams.Jam) is
    set when the jam's header changed in the same rev."""

    post: Any
    rev: int
    header_jam: Any = None


@dataclass(frozen=True)
class JamChanged(Event):
    """The jam's header (jams.Jam: status, current question, timers, rules) changed with
    `rev`."""

    jam: Any
    rev: int


@dataclass(frozen=True)
class UserRolesChanged(Event):
    """A user's role in a jam changed (removed, invited): their open consoles re-check."""

    jam_id: int
    user_id: int


@dataclass(frozen=True)
class JamEnded(Event):
    """A jam ended; its transcript is due."""

    jam_id: int


# Inside the sender's transaction --------------------------------------------------------


@dataclass(frozen=True)
class QuestionReleased(Event):
    """A question (jams.Question) of a live jam (jams.Jam, locked) was released at `now`:
    its host post is due in the same transaction."""

    jam: Any
    question: Any
    now: Any


@dataclass(frozen=True)
class PublicationWanted(Event):
    """A post (posts.Post) just stored should go to the networks its author posts to."""

    post: Any


@dataclass(frozen=True)
class PostModerated(Event):
    """A moderation action is about to stamp this post's (posts.Post) new state: a post
    held back from the networks until it was shown goes out now."""

    post: Any


@dataclass(frozen=True)
class PostShown(Event):
    """A moderator (`actor`) made post `post_id` of jam `jam_id` visible (approved,
    restored): that answers its open flags. Subscribers return the post as they left it."""

    post_id: int
    jam_id: int
    actor: Any


@dataclass(frozen=True)
class ElsewhereAsked(Event):
    """Where a new post by `user` goes: each subscriber returns the post.elsewhere entries
    it starts with ({network: {"status": "queued"}}), or {}."""

    user: Any


E = TypeVar("E", bound=Event)
_subscribers: defaultdict[type[Event], list[Callable[[Any], Any]]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[E], Any]) -> None:
    """Call `handler` for every event of this type. Subscribing twice is harmless."""
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def send(event: Event) -> list[Any]:
    """Call the event's subscribers now; what they return, in subscription order."""
    return [handler(event) for handler in _subscribers[type(event)]]


def send_on_commit(event: Event) -> None:
    """Call the event's subscribers once the current transaction commits."""
    transaction.on_commit(lambda: send(event))
