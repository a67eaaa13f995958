"""Forms for the host's pages. They parse and check what a person typed; the rules that
involve other jams (hashtag reservation, transitions) stay in the services, whose
ValidationErrors are put back on the form with `add_service_errors`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from jamhost.jams.hashtags import hashtag_clean
from jamhost.jams.models import DeletedAuthorPolicy, Jam, ModerationMode, Role
from jamhost.jams.services import MAX_DURATION_MINUTES

MAX_YEARS_AHEAD = 2
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form: to the field it names when the
    form has that field, otherwise above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


class LocalDateTimeField(forms.Field):
    """A wall-clock time typed into <input type="datetime-local">, without a zone: the
    form applies the host's zone, so this field must not apply the server's."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    default_error_messages = {
        "invalid": "Enter a date and time, such as 2026-05-04T18:00.",
    }

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        text = str(value).strip()[:40]
        for fmt in LOCAL_FORMATS:
            try:
                return datetime.strptime(text, fmt)  # a wall-clock time, on purpose
            except ValueError:
                continue
        raise ValidationError(self.error_messages["invalid"], code="invalid")


def zone_from_name(name: str) -> ZoneInfo:
    """The IANA zone the browser reported; raise ValidationError for anything else."""
    name = name.strip()
    if not name:
        return ZoneInfo("UTC")
    if len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise ValidationError("bad zone name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationError("unknown zone") from exc


def local_to_utc(naive: datetime, zone: ZoneInfo) -> datetime:
    """Interpret a wall-clock time in `zone`; refuse a time the clocks skip."""
    aware = naive.replace(tzinfo=zone)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        raise ValidationError(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks skip it. "
            "Pick a time an hour later or earlier.",
            code="nonexistent",
        )
    return aware.astimezone(UTC)


class JamForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        error_messages={
            "required": "Give the jam a title.",
            "max_length": "Keep the title to %(limit_value)d characters (it has %(show_value)d).",
        },
    )
    hashtag = forms.CharField(
        help_text="Letters, digits and underscores, such as #PodcastChat. "
        "It is reserved for your jam's hour.",
        error_messages={"required": "Enter a hashtag, such as #PodcastChat."},
        widget=forms.TextInput(attrs={"autocapitalize": "off", "spellcheck": "false"}),
    )
    starts_at = LocalDateTimeField(
        label="Starts at",
        help_text="In your own time zone.",
        error_messages={"required": "Pick the date and time the jam starts."},
    )
    time_zone = forms.CharField(required=False, widget=forms.HiddenInput)
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        initial=60,
        min_value=5,
        max_value=MAX_DURATION_MINUTES,
        error_messages={
            "required": "Enter how long the jam lasts, in minutes (60 is usual).",
            "invalid": "Enter the duration as a whole number of minutes, such as 60.",
            "min_value": "A jam lasts at least %(limit_value)s minutes.",
            "max_value": "A jam lasts at most %(limit_value)s minutes (a day).",
        },
    )
    description = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "max_length": "Keep the description to %(limit_value)d characters "
            "(it has %(show_value)d)."
        },
    )
    moderation_mode = forms.ChoiceField(
        choices=ModerationMode.choices,
        initial=ModerationMode.POST,
        error_messages={"invalid_choice": "Choose post-moderation or pre-moderation."},
    )
    # Not required: a form sent without it leaves the jam's choice as it is (the default
    # for a new jam).
    deleted_author_policy = forms.ChoiceField(
        label="When someone deletes their jamhost account",
        choices=DeletedAuthorPolicy.choices,
        initial=DeletedAuthorPolicy.ANONYMIZE,
        required=False,
        help_text="Keep: their posts stay, live, in the replay and in the transcript, "
        "with their words, under the name “Deleted user” (no handle, no picture). "
        "Remove: their posts are taken out of the jam, words and all, and an archived "
        "transcript gets a new version without them. The choice is stated on the jam's "
        "pages and applies when someone deletes their account.",
        error_messages={
            "invalid_choice": "Choose to keep their posts as a deleted user or to remove them."
        },
    )

    def __init__(self, *args: Any, jam: Jam | None = None, **kwargs: Any) -> None:
        if jam is not None and kwargs.get("data") is None and not args:
            # Shown in UTC; static/js/host.js rewrites it to the browser's zone and sets
            # time_zone to match, so without JavaScript the two still agree.
            kwargs.setdefault(
                "initial",
                {
                    "title": jam.title,
                    "hashtag": jam.tag,
                    "starts_at": jam.starts_at.astimezone(UTC).replace(tzinfo=None),
                    "time_zone": "UTC",
                    "duration_minutes": jam.duration_minutes,
                    "description": jam.description,
                    "moderation_mode": jam.moderation_mode,
                    "deleted_author_policy": jam.deleted_author_policy,
                },
            )
            super().__init__(*args, **kwargs)
            self.fields["starts_at"].widget.attrs["data-utc"] = jam.starts_at.isoformat()
        else:
            super().__init__(*args, **kwargs)
        self.fields["starts_at"].widget.attrs["data-local-start"] = ""
        self.fields["time_zone"].widget.attrs["data-time-zone"] = ""

    def clean_hashtag(self) -> str:
        return hashtag_clean(self.cleaned_data["hashtag"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # time_zone is hidden: whatever is wrong with it, say so next to the start time.
        zone_rejected = self.errors.pop("time_zone", None) is not None
        naive = cleaned.get("starts_at")
        if naive is None:
            return cleaned
        try:
            if zone_rejected:
                raise ValidationError("unreadable zone")
            zone = zone_from_name(cleaned.get("time_zone") or "")
        except ValidationError:
            shown = str(self.data.get("time_zone", ""))[:40]
            self.add_error(
                "starts_at",
                f"Your browser reported a time zone we do not know ({shown!r}). "
                "Reload the page and try again.",
            )
            return cleaned
        if not 2000 <= naive.year <= timezone.now().year + MAX_YEARS_AHEAD:
            self.add_error(
                "starts_at",
                f"Pick a start between the year 2000 and {MAX_YEARS_AHEAD} years from now.",
            )
            return cleaned
        try:
            cleaned["starts_at"] = local_to_utc(naive, zone)
        except ValidationError as exc:
            self.add_error("starts_at", exc)
        cleaned["zone"] = zone  # the host's: messages about times speak in it
        return cleaned


class QuestionForm(forms.Form):
    text = forms.CharField(
        label="Question",
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 250}),
        error_messages={"required": "Write the question."},
    )
    offset_minutes = forms.IntegerField(
        label="Release at (minutes after the start)",
        min_value=0,
        max_value=MAX_DURATION_MINUTES,
        initial=0,
        error_messages={
            "required": "Enter when to release it, in minutes after the start (0 = at the start).",
            "invalid": "Enter the release time as whole minutes after the start, such as 15.",
            "min_value": "The release time cannot be before the start (use 0 or more).",
            "max_value": "The release time must be within the jam.",
        },
    )

    def __init__(self, *args: Any, prefix_id: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if prefix_id:
            self.auto_id = f"id_{prefix_id}_%s"


class InviteForm(forms.Form):
    role = forms.ChoiceField(
        choices=[(Role.PANELIST, "Panelist"), (Role.MODERATOR, "Moderator")],
        initial=Role.PANELIST,
        error_messages={"invalid_choice": "Invite a panelist or a moderator."},
    )
    note = forms.CharField(
        required=False,
        max_length=120,
        label="Who is it for? (optional)",
        help_text="Only you see this, to tell your invite links apart.",
        error_messages={
            "max_length": "Keep the note to %(limit_value)d characters (it has %(show_value)d)."
        },
    )
