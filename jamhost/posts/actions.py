"""Console actions as they arrive: a JSON frame on a moderator's socket (htmx ws-send sends
the form's values) or a plain POST form (the no-JavaScript fallback). One parser for
both, so a socket and a form can never disagree about what an action means.

Idempotency: a post action's key is derived from the post, the rev the moderator saw and
the action ("hide:12@40"). The fragment a moderator acts on is rendered once for every
moderator, so a random key per form is not possible; the derived key means "this action
on this version of the post" — a resend after a reconnect is the same key, and two
moderators pressing the same button on the same version make one change. Forms rendered
per request (muted words, mode, unblock) carry a random key instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html

from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_moderate
from jamhost.posts import author_moderation, jam_rules, moderation, post_moderation
from jamhost.posts.models import Post

POST_ACTIONS: dict[str, Callable[..., moderation.Outcome]] = {
    "approve": post_moderation.post_approve,
    "hide": post_moderation.post_hide,
    "restore": post_moderation.post_restore,
    "pin": post_moderation.post_pin,
    "unpin": post_moderation.post_unpin,
    "feature": post_moderation.post_feature,
    "unfeature": post_moderation.post_unfeature,
    "answer": post_moderation.post_mark_answered,
    "unanswer": post_moderation.post_mark_unanswered,
}
OTHER_ACTIONS = ("block", "unblock", "muted_words", "mode")
MAX_FIELD_CHARS = 4000


def _text(fields: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = fields.get(name)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]  # a form field sent once arrives as a one-item list from QueryDict
    if value is None or value == "":
        if required:
            raise ValidationError(f"The action is missing its “{name}”.")
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_FIELD_CHARS:
        raise ValidationError(f"The action's “{name}” is not readable; reload the console.")
    return value


def _number(fields: Mapping[str, Any], name: str) -> int:
    raw = _text(fields, name)
    # isdigit() alone accepts "⁰⁴⁵" and other digits int() refuses (a 500, a dead socket).
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ValidationError(f"The action's “{name}” must be a number, not “{raw[:20]}”.")
    return int(raw)


def _key(fields: Mapping[str, Any], action: str, target: str) -> str | None:
    """The idempotency key: the rev the moderator acted on, or a form's own key."""
    rev = _text(fields, "rev", required=False)
    if rev.isdigit() and len(rev) <= 18:
        return f"{action}:{target}@{rev}"
    own = _text(fields, "key", required=False)
    return f"{action}:{own[:80]}" if own else None


def action_apply(*, jam: Jam, actor: Any, fields: Mapping[str, Any]) -> moderation.Outcome:
    """Run the console action described by `fields` as `actor`.

    Raises PermissionDenied or ValidationError (code "not_found" for an unknown post or
    author) with a message for the moderator.
    """
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied("Log in as a moderator of this jam to moderate it.")
    action = _text(fields, "action")
    if action in POST_ACTIONS:
        post_id = _number(fields, "post")
        key = _key(fields, action, str(post_id))
        if action == "hide":
            return post_moderation.post_hide(
                jam=jam,
                actor=actor,
                post_id=post_id,
                reason=_text(fields, "reason", required=False),
                key=key,
            )
        return POST_ACTIONS[action](jam=jam, actor=actor, post_id=post_id, key=key)
    if action in ("block", "unblock"):
        if fields.get("post") not in (None, ""):
            post_id = _number(fields, "post")
            author_key = _author_of(jam, post_id)
            key = _key(fields, action, str(post_id))
        else:
            author_key = _text(fields, "author")
            key = _key(fields, action, author_key)
        if action == "block":
            return author_moderation.author_block(
                jam=jam,
                actor=actor,
                author_key=author_key,
                reason=_text(fields, "reason", required=False),
                key=key,
            )
        return author_moderation.author_unblock(
            jam=jam, actor=actor, author_key=author_key, key=key
        )
    if action == "muted_words":
        return jam_rules.jam_set_muted_words(
            jam=jam,
            actor=actor,
            words=_text(fields, "muted_words", required=False),
            expected=_text(fields, "expected", required=False) if "expected" in fields else None,
            key=_key(fields, action, "jam"),
        )
    if action == "mode":
        return jam_rules.jam_switch_moderation_mode(
            jam=jam, actor=actor, mode=_text(fields, "mode"), key=_key(fields, action, "jam")
        )
    raise ValidationError(f"There is no console action called “{action[:30]}”.")


def _author_of(jam: Jam, post_id: int) -> str:
    author_key = (
        Post.objects.filter(pk=post_id, jam_id=jam.pk).values_list("author_key", flat=True).first()
    )
    if author_key is None:
        raise ValidationError(
            f"There is no post {post_id} in this jam; it may belong to another jam.",
            code="not_found",
        )
    return author_key


def notice_html(message: str, *, ok: bool) -> str:
    """The console's notice line. live.js swaps any element whose id is on the page."""
    return format_html(
        '<div id="console-notice" class="console-notice {}" role="{}">{}</div>',
        "ok" if ok else "error",
        "status" if ok else "alert",
        message,
    )


def socket_action(*, jam_id: int, user: Any, message: Mapping[str, Any]) -> tuple[str, bool]:
    """Apply an action from a moderator's socket: (notice for that socket, may stay).

    Never raises for bad input: every refusal is a notice. The second value is False
    when the user may no longer moderate, so the socket is closed after the notice.
    """
    jam = Jam.objects.filter(pk=jam_id).first()
    if jam is None:
        return notice_html("This jam no longer exists.", ok=False), False
    try:
        outcome = action_apply(jam=jam, actor=user, fields=message)
    except PermissionDenied as exc:
        # A moderator refused a host-only action keeps the socket; a user whose role
        # was removed mid-jam does not.
        still = can_moderate(user=user, jam=jam)
        return notice_html(str(exc) or "You may not do that.", ok=False), still
    except ValidationError as exc:
        return notice_html(" ".join(exc.messages), ok=False), True
    return notice_html(outcome.message, ok=True), True
