"""The compose box a successful POST answers with, rendered once per shape.

After a post the box is the same for everyone who posted in the same jam with the same
choice, but for three values of the request's own: its CSRF token, a fresh client key
and (when the post went to a network that refuses a repeat, X) the text the box then
warns about. Rendering
`live/_compose.html` cost about a twentieth of a compose POST's CPU; here it is rendered
once per shape — every other value it shows is in the key (the jam's slug and hashtag,
the released questions' numbers and texts, the choice, the notes, the text rules the
counters show: each network's label, limit, unit, hashtag and link weight) — with a marker in place
of each per-request value, and each answer is that text with the request's values put in,
escaped as the template escapes them. Nothing of one person's reaches another's: the
per-request values are never part of the kept text, and a change to anything else is a
new key. Boxes with a text or errors in them (a refusal) are rendered by the template.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from cachetools import LRUCache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import conditional_escape

TEMPLATE = "live/_compose.html"
# A marker no text of a jam can hold: fresh random letters per process.
_MARK = secrets.token_hex(12)
_CSRF, _CLIENT_KEY, _SENT_TEXT = (f"q{_MARK}{n}q" for n in ("csrf", "key", "text"))

_kept: LRUCache[tuple[Any, ...], str] = LRUCache(maxsize=256)
_lock = threading.Lock()


def _choice(choice: Any, numbers: tuple[str, ...]) -> Any:
    """The choice as the template tells choices apart (it is compared, never shown): a
    form's arbitrary value is one shape, not a key of its own."""
    return choice if choice in ("auto", "", "none") or choice in numbers else "-"


def _shape(context: dict[str, Any]) -> tuple[Any, ...]:
    jam = context["jam"]
    released = tuple((q.number, q.text) for q in context["released"])
    return (
        jam.pk,
        jam.slug,
        jam.hashtag,
        released,
        context["held_for_approval"],
        _choice(context["choice"], tuple(str(number) for number, _text in released)),
        # The rules' counters (network, label, limit, unit, hashtag, link weight): they
        # differ with the author's linked accounts and the jam's routes.
        tuple(context["rules"]),
        context["limit"],
        bool(context.get("sent")),
        bool(context.get("stored_before")),
        bool(context.get("sent_text")),
    )


def render_compose_box(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    """What `render(request, TEMPLATE, context)` answers, for a box with no text and no
    errors from the one kept text of its shape."""
    if context.get("body") or context.get("errors"):
        return render(request, TEMPLATE, context)
    key = _shape(context)
    with _lock:
        text = _kept.get(key)
    if text is None:
        marked = dict(
            context,
            client_key=_CLIENT_KEY,
            sent_text=_SENT_TEXT if context.get("sent_text") else "",
            csrf_token=_CSRF,
        )
        text = render_to_string(TEMPLATE, marked)
        with _lock:
            _kept[key] = text
    answer = (
        text.replace(_CSRF, get_token(request))
        .replace(_CLIENT_KEY, str(conditional_escape(context["client_key"])))
        .replace(_SENT_TEXT, str(conditional_escape(context.get("sent_text") or "")))
    )
    return HttpResponse(answer)
