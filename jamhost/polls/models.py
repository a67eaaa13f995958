"""Polls: a question with 2 to 4 options that the room answers while it is open.

A poll is on the run-sheet (opened by the sweep at the jam's start plus `offset_minutes`)
or launched on the spot. It closes at `closes_at`. Every change people see (opened, a
vote counted, closed, X's results read) takes the jam's next rev, stamped on `Poll.rev`,
and reaches screens on the posts' live path as the poll's fragment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

MIN_OPTIONS = 2
MAX_OPTIONS = 4
# X's own bounds for a native poll: options of at most 25 characters, open 5 min to 7 days.
OPTION_MAX_LENGTH = 25
X_MIN_MINUTES = 5
MAX_MINUTES = 10080


class PollState(models.TextChoices):
    WAITING = "waiting", "On the run-sheet"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class XPollState(models.TextChoices):
    NONE = "", "Not on X"
    QUEUED = "queued", "Going to X"
    PUBLISHED = "published", "On X"
    READ = "read", "Results read"
    FAILED = "failed", "X refused it"


class Poll(models.Model):
    jam = models.ForeignKey("jams.Jam", on_delete=models.CASCADE, related_name="polls")
    text = models.CharField(max_length=250)
    offset_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Minutes after the start it opens (run-sheet polls)."
    )
    open_minutes = models.PositiveIntegerField(default=5)
    state = models.CharField(max_length=8, choices=PollState.choices, default=PollState.WAITING)
    opened_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    rev = models.PositiveBigIntegerField(default=0)
    votes = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # X: the post that carries the native poll, and its results read once after it closed.
    on_x = models.BooleanField(default=False)
    x_state = models.CharField(max_length=10, choices=XPollState.choices, blank=True, default="")
    x_post = models.OneToOneField(
        "posts.Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="x_poll"
    )
    x_results = models.JSONField(default=dict, blank=True)
    x_read_at = models.DateTimeField(null=True, blank=True)
    x_reads = models.PositiveIntegerField(default=0)
    x_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["jam_id", "id"]
        indexes = [models.Index(fields=["state", "closes_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(open_minutes__gte=1, open_minutes__lte=MAX_MINUTES),
                name="poll_open_minutes_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"Poll {self.pk} of jam {self.jam_id}: {self.text[:40]}"

    def open_at(self, starts_at: datetime) -> datetime | None:
        if self.offset_minutes is None:
            return None
        return starts_at + timedelta(minutes=self.offset_minutes)

    @property
    def is_open(self) -> bool:
        return self.state == PollState.OPEN

    @property
    def is_closed(self) -> bool:
        return self.state == PollState.CLOSED


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=OPTION_MAX_LENGTH)
    votes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["poll_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "position"], name="poll_option_position_unique")
        ]

    def __str__(self) -> str:
        return self.text


class PollVote(models.Model):
    """One person's vote in one poll (the constraint is the rule); changing it updates
    the row until the poll closes."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="ballots")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="ballots")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "user"], name="poll_vote_once_per_person")
        ]

    def __str__(self) -> str:
        return f"vote of user {self.user_id} in poll {self.poll_id}"
