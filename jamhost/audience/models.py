"""What the audience adds to a jam besides posts: upvotes on audience questions, flags
for moderators and people marked to follow up. The per-person budget that keeps floods of
votes or flags out is counted by the project's one limiter (jamhost.ratelimit), not here.

Replies are not here: a reply is a Post with `reply_to` set, so it goes through the same
seq, moderation and live path as every other post.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Vote(models.Model):
    """One participant's upvote on one audience question. The unique constraint is what
    makes a double click or a resent request count once."""

    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="vote_once")]
        indexes = [models.Index(fields=["user", "post"], name="vote_user")]

    def __str__(self) -> str:
        return f"vote by {self.user_id} on post {self.post_id}"


class FlagReason(models.TextChoices):
    SPAM = "spam", "Spam"
    ABUSE = "abuse", "Abuse"
    OFF_TOPIC = "off-topic", "Off-topic"


class Flag(models.Model):
    """One participant's flag on one post. A flag a moderator dismissed stays (so the
    same person cannot flag the post again) but no longer counts."""

    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, related_name="flag_set")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=12, choices=FlagReason.choices)
    created_at = models.DateTimeField()
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="flag_once")]
        indexes = [models.Index(fields=["user", "created_at"], name="flag_user_time")]

    def __str__(self) -> str:
        return f"{self.reason} flag by {self.user_id} on post {self.post_id}"


class FollowUp(models.Model):
    """Someone a participant wants to follow after the jam, with where to find them."""

    jam = models.ForeignKey("jams.Jam", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follow_ups"
    )
    author_key = models.CharField(max_length=80)
    author_handle = models.CharField(max_length=80)
    author_name = models.CharField(max_length=120, blank=True)
    profile_url = models.CharField(max_length=300)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["jam", "user", "author_key"], name="follow_up_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows up @{self.author_handle}"
