"""atproto's wire conventions that the Bluesky-compatible server's state and handler share:
faults, times, TIDs, CIDs, JWT-looking tokens, XRPC error bodies and grapheme counts."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import regex

# The base32 alphabet atproto sorts TIDs (record keys, revisions) with.
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_PATTERN = regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
GRAPHEME = regex.compile(r"\X")


@dataclass
class Fault:
    """One answer out of the ordinary. Kinds: "429", "500", "502", "503", "malformed" (not
    JSON), "slow" (served after `delay` s), "drop" (the connection closes unanswered), "raw"
    (any status, headers and body), and for createRecord "slow_after_create",
    "drop_after_create", "502_after_create" (the record IS stored, then the answer comes too
    late, never, or as a 502)."""

    kind: str
    delay: float = 0.0
    reset_in: int = 60
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    skip: int = 0  # let this many matching requests through first

    @property
    def after_create(self) -> bool:
        return self.kind.endswith("_after_create")


def iso(when: datetime) -> str:
    """An atproto datetime, millisecond precision, in UTC with a Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def iso_at(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, tz=UTC))


def parse_iso(raw: object) -> datetime | None:
    """An RFC 3339 datetime with a zone, or a plain date (searchPosts accepts both)."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def tid_encode(micros: int, clock_id: int = 0) -> str:
    """A TID: 53 bits of microseconds since 1970 and 10 bits of clock id, 13 characters."""
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def cid_for(value: Any) -> str:
    """A CIDv1 (dag-cbor codec, sha2-256) in base32, over the value's canonical JSON."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()
    raw = bytes([0x01, 0x71, 0x12, 0x20]) + digest
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def jwt_make(claims: dict[str, Any], nonce: str) -> str:
    """A token shaped like the PDS's (header.claims.signature); the signature is a random
    value the server remembers, not a real signature."""
    header = _b64url(json.dumps({"typ": "at+jwt", "alg": "ES256K"}).encode())
    body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{body}.{_b64url(nonce.encode())}"


def graphemes(text: str) -> int:
    return len(GRAPHEME.findall(text))


def xrpc_error(error: str, message: str) -> dict[str, str]:
    return {"error": error, "message": message}
