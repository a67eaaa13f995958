from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class JamStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    LIVE = "live", "Live"
    ENDED = "ended", "Ended"
    ARCHIVED = "archived", "Archived"


class ModerationMode(models.TextChoices):
    POST = "post", "Post-moderation (visible at once, hide afterwards)"
    PRE = "pre", "Pre-moderation (participants' posts wait for approval)"


class DeletedAuthorPolicy(models.TextChoices):
    """What becomes of a person's posts in a jam when they delete their jamhost account.
    The host chooses per jam; jamhost.accounts.services.account_delete applies the choice
    in force at the moment of deletion."""

    ANONYMIZE = "anonymize", "Keep their posts, shown as a deleted user"
    REMOVE = "remove", "Remove their posts"


DELETED_AUTHOR_STATEMENTS = {
    DeletedAuthorPolicy.ANONYMIZE: "If someone deletes their jamhost account, their posts "
    "here are shown as a deleted user (no name, no handle).",
    DeletedAuthorPolicy.REMOVE: "If someone deletes their jamhost account, their posts "
    "here are removed, words and all.",
}


class Role(models.TextChoices):
    HOST = "host", "Host"
    MODERATOR = "moderator", "Moderator"
    PANELIST = "panelist", "Panelist"


def run_window(
    starts_at: datetime,
    duration_minutes: int,
    went_live_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> tuple[datetime, datetime]:
    """When a jam runs: from going live (early with "Start now") to its real end (early
    with "End the jam", later when extended), the schedule standing in for what has not
    happened yet. Pages, calendars, exports and the hashtag reservation all use this."""
    start = went_live_at or starts_at
    end = ended_at or starts_at + timedelta(minutes=duration_minutes)
    return start, max(start, end)


def duration_label(start: datetime, end: datetime) -> str:
    """ "42 minutes", "1 minute", "under a minute": how long start..end lasted."""
    minutes = round((end - start).total_seconds() / 60)
    if (end - start).total_seconds() < 60:
        return "under a minute"
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


class Jam(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    hashtag = models.CharField(max_length=100, help_text="Without the #, as the host typed it.")
    hashtag_key = models.CharField(max_length=100, db_index=True, editable=False)
    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=60)
    status = models.CharField(max_length=12, choices=JamStatus.choices, default=JamStatus.DRAFT)
    moderation_mode = models.CharField(
        max_length=8, choices=ModerationMode.choices, default=ModerationMode.POST
    )
    muted_words = models.TextField(blank=True, help_text="One word or phrase per line.")
    flag_threshold = models.PositiveIntegerField(default=3)
    deleted_author_policy = models.CharField(
        max_length=10,
        choices=DeletedAuthorPolicy.choices,
        default=DeletedAuthorPolicy.ANONYMIZE,
        help_text="What becomes of a person's posts here when they delete their account.",
    )
    # The sites (origins: scheme, host, port) that may show the jam's embed in a frame;
    # see jams.embedding. Empty: no site but jamhost itself.
    embed_origins = models.JSONField(default=list, blank=True)
    # Set with the change that outdates an archived jam's transcript (an account
    # deletion), cleared by the archive that supersedes it; the archive sweep re-archives
    # every jam still marked, so a lost or failed task only delays the new version.
    transcript_outdated = models.BooleanField(default=False, editable=False)
    # The rev the latest transcript was made at (transcripts.services.jam_archive). A
    # change after it (a post ingested after the end, an edit, a post's state on a
    # network) moves `rev` past it, and the archive sweep makes the transcript again.
    archived_rev = models.PositiveBigIntegerField(default=0, db_default=0, editable=False)
    # Counters, bumped inside the writing transaction (see posts.services):
    # last_seq numbers posts without gaps; rev stamps every change any screen must see.
    last_seq = models.PositiveBigIntegerField(default=0)
    rev = models.PositiveBigIntegerField(default=0)
    header_rev = models.PositiveBigIntegerField(default=0)
    current_question = models.ForeignKey(
        "jams.Question", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    went_live_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.title} (#{self.hashtag})"

    def get_absolute_url(self) -> str:
        return reverse("jams:detail", kwargs={"slug": self.slug})

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def start_has_passed(self) -> bool:
        return self.starts_at <= timezone.now()

    @property
    def run(self) -> tuple[datetime, datetime]:
        """(start, end) as it really ran, for an ended jam; see run_window."""
        return run_window(self.starts_at, self.duration_minutes, self.went_live_at, self.ended_at)

    @property
    def ran_from(self) -> datetime:
        return self.run[0]

    @property
    def ran_for(self) -> str:
        """How long the jam really ran ("42 minutes"); meaningful once it has ended."""
        return duration_label(*self.run)

    @property
    def tag(self) -> str:
        return f"#{self.hashtag}"

    @property
    def is_live(self) -> bool:
        return self.status == JamStatus.LIVE

    @property
    def is_over(self) -> bool:
        return self.status in (JamStatus.ENDED, JamStatus.ARCHIVED)

    @property
    def deleted_author_statement(self) -> str:
        """The deletion policy in one plain sentence, for the jam's public pages."""
        return DELETED_AUTHOR_STATEMENTS[DeletedAuthorPolicy(self.deleted_author_policy)]

    def muted_word_list(self) -> list[str]:
        return [w.strip().lower() for w in self.muted_words.splitlines() if w.strip()]


class Question(models.Model):
    jam = models.ForeignKey(Jam, on_delete=models.CASCADE, related_name="questions")
    number = models.PositiveIntegerField()
    text = models.CharField(max_length=250)
    offset_minutes = models.PositiveIntegerField(
        default=0, help_text="Minutes after the jam's start when the question is released."
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["jam", "number"]
        constraints = [
            models.UniqueConstraint(fields=["jam", "number"], name="question_number_unique")
        ]

    def __str__(self) -> str:
        return f"Q{self.number}: {self.text}"

    @property
    def label(self) -> str:
        return f"Q{self.number}"

    @property
    def release_at(self) -> datetime:
        return self.jam.starts_at + timedelta(minutes=self.offset_minutes)

    @property
    def is_released(self) -> bool:
        return self.released_at is not None


class Membership(models.Model):
    jam = models.ForeignKey(Jam, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=12, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["jam", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.jam}"


class Invite(models.Model):
    jam = models.ForeignKey(Jam, on_delete=models.CASCADE, related_name="invites")
    role = models.CharField(
        max_length=12, choices=[(Role.MODERATOR, "Moderator"), (Role.PANELIST, "Panelist")]
    )
    token = models.CharField(max_length=64, unique=True)
    note = models.CharField(max_length=120, blank=True, help_text="Who the invite is for.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.role} invite to {self.jam}"

    def get_absolute_url(self) -> str:
        return reverse("jams:invite_accept", kwargs={"token": self.token})

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class ReminderKind(models.TextChoices):
    DAY = "day", "24 hours before"
    SOON = "soon", "15 minutes before"


class Rsvp(models.Model):
    """Someone to remind of a scheduled jam: who asked (`asked`), or one of its panelists
    and moderators, enrolled without asking. Unsubscribing keeps the row, so the sweep
    does not enrol a member again."""

    jam = models.ForeignKey(Jam, on_delete=models.CASCADE, related_name="rsvps")
    email = models.EmailField(help_text="Stored lower-cased.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asked = models.BooleanField(default=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["jam", "email"], name="rsvp_unique")]

    def __str__(self) -> str:
        return f"{self.email} for {self.jam_id}"


class ReminderSent(models.Model):
    """One reminder of one kind to one person about one start time. The unique constraint
    is the claim that makes each reminder go out once, however many sweeps run; a jam
    moved to a new start gets reminders for the new one."""

    rsvp = models.ForeignKey(Rsvp, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=8, choices=ReminderKind.choices)
    starts_at = models.DateTimeField(help_text="The start the reminder announced.")
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rsvp", "kind", "starts_at"], name="reminder_sent_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder to {self.rsvp_id}"
