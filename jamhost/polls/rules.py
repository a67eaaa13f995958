"""What a poll may be: checked before anything is stored, each refusal a sentence a host
can act on."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError

from jamhost.polls.models import (
    MAX_MINUTES,
    MAX_OPTIONS,
    MIN_OPTIONS,
    OPTION_MAX_LENGTH,
    X_MIN_MINUTES,
)

TEXT_MAX_LENGTH = 250


def poll_options_clean(options: Sequence[str]) -> list[str]:
    """The options as they will be stored (blank lines left out), or ValidationError."""
    cleaned = [" ".join(str(option).split()) for option in options]
    cleaned = [option for option in cleaned if option]
    if len(cleaned) < MIN_OPTIONS:
        raise ValidationError(
            f"A poll needs {MIN_OPTIONS} to {MAX_OPTIONS} options; this one has "
            f"{len(cleaned)}. Add another option."
        )
    if len(cleaned) > MAX_OPTIONS:
        raise ValidationError(
            f"A poll has at most {MAX_OPTIONS} options (as on X); this one has "
            f"{len(cleaned)}. Leave some out."
        )
    for option in cleaned:
        if len(option) > OPTION_MAX_LENGTH:
            raise ValidationError(
                f"The option “{option[:40]}” is {len(option)} characters; an option has at "
                f"most {OPTION_MAX_LENGTH} (as on X). Shorten it."
            )
    folded = [option.casefold() for option in cleaned]
    if len(set(folded)) != len(folded):
        raise ValidationError("Two options read the same; make each option different.")
    return cleaned


def poll_text_clean(text: str) -> str:
    cleaned = " ".join(str(text).split())
    if not cleaned:
        raise ValidationError("Write the poll's question.")
    if len(cleaned) > TEXT_MAX_LENGTH:
        raise ValidationError(
            f"The poll's question is {len(cleaned)} characters; keep it to {TEXT_MAX_LENGTH}."
        )
    return cleaned


def poll_minutes_clean(minutes: object, *, on_x: bool) -> int:
    """How long the poll stays open, in whole minutes (X's own bounds when it goes to X)."""
    try:
        value = int(str(minutes).strip())
    except (TypeError, ValueError):
        raise ValidationError(
            f"How long the poll is open is a whole number of minutes; “{str(minutes)[:20]}” is not."
        ) from None
    low = X_MIN_MINUTES if on_x else 1
    if not low <= value <= MAX_MINUTES:
        where = " on X" if on_x else ""
        raise ValidationError(
            f"A poll{where} is open from {low} to {MAX_MINUTES} minutes (7 days); "
            f"{value} is outside that."
        )
    return value


def poll_offset_clean(offset: object, *, duration_minutes: int) -> int:
    try:
        value = int(str(offset).strip())
    except (TypeError, ValueError):
        raise ValidationError(
            f"When the poll opens is a whole number of minutes after the start; "
            f"“{str(offset)[:20]}” is not."
        ) from None
    if not 0 <= value <= duration_minutes:
        raise ValidationError(
            f"The poll opens between minute 0 and minute {duration_minutes} of the jam; "
            f"{value} is outside it."
        )
    return value
