"""What every network's client speaks, whatever the network: the values its calls return
and the failures they raise. The gateway (networks.gateway) and the engines that publish
and ingest (networks.deliveries, networks.cursors) know only these; each network's package
(networks.x, networks.bluesky, networks.mastodon) turns its service's answers into them.

A client call never returns half an answer: a malformed post inside a page is left out of
`RemotePage.posts` with its reason in `RemotePage.skipped`; a malformed page raises
RemoteUnavailable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class RemoteAuthor:
    remote_id: str  # X user id, Bluesky DID, Mastodon account URI
    handle: str  # "alice" on X, "alice.bsky.social", "alice@mastodon.example"
    display_name: str = ""
    avatar_url: str = ""
    profile_url: str = ""


@dataclass(frozen=True)
class RemotePost:
    remote_id: str  # globally unique: X post id, at:// URI, Mastodon status URI
    url: str  # the original, for people (bsky.app, the status's web page)
    author: RemoteAuthor
    text: str  # plain text as its author wrote it (HTML turned to text, entities unescaped)
    created_at: datetime
    tags: tuple[str, ...] = ()  # lower case, without "#"
    links: tuple[str, ...] = ()
    lang: str = ""
    reply_to: str = ""  # the remote_id of the post it answers
    edited_at: datetime | None = None


@dataclass(frozen=True)
class RemoteDeletion:
    remote_id: str


@dataclass
class RemotePage:
    """One answer of a network's tag search or timeline."""

    posts: list[RemotePost] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each left-out item was left out
    deleted: list[RemoteDeletion] = field(default_factory=list)
    # Where the next page of this same search starts; None when this was the last one.
    next_page: str | None = None
    # The newest position seen, for the next search's "after" (saved once all pages are in).
    newest: str | None = None
    rate_remaining: int | None = None
    rate_reset_at: datetime | None = None
    reads: int = 0  # items the network counted as read (billing)


@dataclass(frozen=True)
class Published:
    remote_id: str
    url: str


@dataclass(frozen=True)
class Session:
    """A linked account's identity and tokens as the network returned them (plain text:
    the caller encrypts before storing)."""

    remote_id: str
    handle: str
    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None
    display_name: str = ""
    avatar_url: str = ""
    profile_url: str = ""
    service: str = ""  # the server the tokens belong to (a Bluesky PDS, a Mastodon instance)


@dataclass(frozen=True)
class TextRules:
    """How a network counts a post's text and where it stops."""

    limit: int
    counts: str  # for people: "graphemes", "characters, links count 23", "X's weights"


class RemoteError(Exception):
    """A call to a network failed; `reason` is a sentence a person can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RemoteUnavailable(RemoteError):
    """No answer, a cut connection, a 5xx or an answer that makes no sense: a publish may
    or may not have happened."""


class RemoteRateLimited(RemoteError):
    """429: nothing was done; try again at `reset_at`."""

    def __init__(self, reason: str, reset_at: datetime) -> None:
        super().__init__(reason)
        self.reset_at = reset_at


class RemoteRefused(RemoteError):
    """The network understood and said no (too long, invalid, a word the instance bans):
    sending the same again gets the same answer."""


class RemoteUnauthorized(RemoteError):
    """The account's tokens are gone or expired beyond refresh: the person links again."""


class RemoteExpired(RemoteUnauthorized):
    """The access token expired; a refresh may bring it back."""
