"""Registration hooks: how an app higher up (polls) adds to what lower apps do, without
those apps importing it. Each hook is a list the upper app appends to in its
AppConfig.ready(); the lower app calls every entry. Empty lists change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jamhost.core.text_rules import TextRule

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


# Text rules: (jam, user) -> the rules of the networks a post by `user` (None: nobody in
# particular, as for a question) in `jam` is held to (networks; see
# jamhost/networks/text_rules.py for which apply). Empty: the jam is on no network.
text_rules: list[Callable[[Any, Any], list[TextRule]]] = []


def collect_text_rules(jam: Any, user: Any) -> list[TextRule]:
    found: list[TextRule] = []
    for hook in text_rules:
        found.extend(hook(jam, user))
    return found
