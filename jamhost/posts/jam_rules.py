"""The jam's moderation rules, changed while it runs: its muted words and its moderation
mode. Each change is audited, takes a rev and reaches every console."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from jamhost.core import events
from jamhost.jams.counters import jam_next_rev
from jamhost.jams.lifecycle import jam_set_moderation_mode
from jamhost.jams.locks import jam_lock
from jamhost.jams.models import Jam, ModerationMode
from jamhost.jams.permissions import can_edit
from jamhost.posts.models import ModerationAction
from jamhost.posts.moderation import Outcome, already_applied, audit, check_moderator, resent

MAX_MUTED_WORDS = 200
MAX_MUTED_WORD_CHARS = 60


def muted_words_normalize(words: str) -> str:
    """One word or phrase per line, trimmed, without blanks or repeats (case-insensitive)."""
    seen: set[str] = set()
    lines: list[str] = []
    for line in (words or "").splitlines():
        word = " ".join(line.split())
        if word and word.lower() not in seen:
            seen.add(word.lower())
            lines.append(word)
    return "\n".join(lines)


def jam_set_muted_words(
    *,
    jam: Jam,
    actor: Any,
    words: str,
    expected: str | None = None,
    key: str | None = None,
) -> Outcome:
    """Replace the jam's muted words (a new post containing one arrives pending).

    `expected` is the list the moderator started editing from: when another moderator
    changed it meanwhile the save is refused instead of silently dropping their words.
    """
    new = muted_words_normalize(words)
    lines = new.splitlines()
    if len(lines) > MAX_MUTED_WORDS:
        raise ValidationError(f"Keep the list to {MAX_MUTED_WORDS} words or phrases.")
    too_long = [w for w in lines if len(w) > MAX_MUTED_WORD_CHARS]
    if too_long:
        raise ValidationError(
            f"Keep each muted word or phrase to {MAX_MUTED_WORD_CHARS} characters "
            f"(“{too_long[0][:20]}…” is longer)."
        )
    with transaction.atomic():
        check_moderator(actor, jam)
        jam = jam_lock(jam)
        entry = already_applied(jam, key)
        if entry is not None:
            return resent(entry)
        current = muted_words_normalize(jam.muted_words)
        if expected is not None and muted_words_normalize(expected) != current:
            raise ValidationError(
                "Another moderator changed the muted words while you were editing. "
                f"The list is now: {', '.join(current.splitlines()) or '(empty)'}. "
                "Reload, merge your words in and save again."
            )
        if new == current:
            return Outcome("The muted words are unchanged.", changed=False)
        jam.muted_words = new
        # The header does not show muted words, but stamping it is what tells every
        # console (its settings and audit panels) that the rules changed.
        _, jam.rev = jam_next_rev(jam_id=jam.pk, header_changed=True)
        jam.header_rev = jam.rev
        jam.save(update_fields=["muted_words", "updated_at"])
        events.send_on_commit(events.JamChanged(jam=jam, rev=jam.header_rev))
        audit(
            jam_id=jam.pk,
            actor=actor,
            action=ModerationAction.MUTED_WORDS,
            before={"muted_words": current.splitlines()},
            after={"muted_words": lines},
            key=key,
        )
    return Outcome(f"Muted words saved ({len(lines)}).", changed=True)


def jam_switch_moderation_mode(
    *, jam: Jam, actor: Any, mode: str, key: str | None = None
) -> Outcome:
    """Switch between post- and pre-moderation during the jam (the host, or staff).
    Posts already in the stream keep their status; the mode decides new posts."""
    if not can_edit(user=actor, jam=jam):
        raise PermissionDenied("Only the jam's host can switch the moderation mode.")
    if mode not in ModerationMode.values:
        raise ValidationError("Choose post-moderation or pre-moderation.")
    with transaction.atomic():
        locked = jam_lock(jam)
        entry = already_applied(locked, key)
        if entry is not None:
            return resent(entry)
        before = locked.moderation_mode
        if before == mode:
            return Outcome(f"The jam is already in {locked.get_moderation_mode_display()}.", False)
        updated = jam_set_moderation_mode(jam=locked, mode=mode)
        audit(
            jam_id=locked.pk,
            actor=actor,
            action=ModerationAction.MODE,
            before={"moderation_mode": before},
            after={"moderation_mode": mode},
            key=key,
        )
    return Outcome(f"Switched to {updated.get_moderation_mode_display()}.", changed=True)
