"""Registration hooks: how an app higher up (polls) adds to what lower apps do, without
those apps importing it. Each hook is a list the upper app appends to in its
AppConfig.ready(); the lower app calls every entry. Empty lists change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# live catch-up: (jam, audience, after, upto) -> [(rev, key, html)] of the objects the
# app publishes on the live path whose rev is in (after, upto].
live_parts: list[Callable[[Any, str, int, int], list[tuple[int, str | None, str]]]] = []

# transcript snapshot: jam -> {key: JSON value} added to the snapshot.
snapshot_parts: list[Callable[[Any], dict[str, Any]]] = []

# X publishing: post -> extra fields for POST /2/tweets (a native poll), or {}.
x_create_fields: list[Callable[[Any], dict[str, Any]]] = []


def collect_x_create_fields(post: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for hook in x_create_fields:
        fields.update(hook(post))
    return fields


# The compose box: (jam, user) -> the networks besides X a post by `user` in `jam` goes
# to, each {"network", "label", "limit", "unit", "hashtag", "url_weight"}, for the
# box's counters (networks).
compose_networks: list[Callable[[Any, Any], list[dict[str, Any]]]] = []


def collect_compose_networks(jam: Any, user: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for hook in compose_networks:
        found.extend(hook(jam, user))
    return found
