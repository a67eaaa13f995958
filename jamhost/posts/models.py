from __future__ import annotations

from django.conf import settings
from django.db import models


class PostStatus(models.TextChoices):
    VISIBLE = "visible", "Visible"
    PENDING = "pending", "Pending"
    HIDDEN = "hidden", "Hidden"


class Source(models.TextChoices):
    APP = "app", "jamhost"
    X = "x", "X"
    IMPORT = "import", "Import"


class Kind(models.TextChoices):
    POST = "post", "Post"
    QUESTION = "question", "Question release"


class AuthorRole(models.TextChoices):
    HOST = "host", "Host"
    MODERATOR = "moderator", "Moderator"
    PANELIST = "panelist", "Panelist"
    PARTICIPANT = "participant", "Participant"


class NetworkStatus(models.TextChoices):
    LOCAL = "local", "Local only"
    QUEUED = "queued", "Queued for X"
    PUBLISHED = "published", "Published on X"
    FAILED = "failed", "Failed to publish"


class Post(models.Model):
    jam = models.ForeignKey("jams.Jam", on_delete=models.CASCADE, related_name="posts")
    seq = models.PositiveBigIntegerField(help_text="Gap-free, strictly increasing per jam.")
    rev = models.PositiveBigIntegerField(
        help_text="The jam's change counter at this post's last change (see live.catchup)."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.POST)
    question = models.ForeignKey(
        "jams.Question", null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="posts",
    )
    # The author as shown, kept on the post so that every render is query-free and
    # network authors (who have no account here) look like local ones.
    author_key = models.CharField(max_length=80, db_index=True)
    author_handle = models.CharField(max_length=80)
    author_name = models.CharField(max_length=120, blank=True)
    author_avatar_url = models.URLField(max_length=500, blank=True)
    author_role = models.CharField(
        max_length=12, choices=AuthorRole.choices, default=AuthorRole.PARTICIPANT
    )
    body = models.TextField(help_text="What the author wrote.")
    text = models.TextField(help_text="The full text as published: prefix, body, hashtag.")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.APP)
    external_id = models.CharField(max_length=64, null=True, blank=True)
    client_key = models.CharField(max_length=64, null=True, blank=True)
    status = models.CharField(max_length=8, choices=PostStatus.choices, default=PostStatus.VISIBLE)
    status_reason = models.CharField(max_length=200, blank=True)
    pinned = models.BooleanField(default=False)
    featured = models.BooleanField(default=False)
    answered = models.BooleanField(default=False)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    links = models.JSONField(default=list, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    lang = models.CharField(max_length=12, blank=True)
    upvotes = models.PositiveIntegerField(default=0)
    flags = models.PositiveIntegerField(default=0)
    network_status = models.CharField(
        max_length=10, choices=NetworkStatus.choices, default=NetworkStatus.LOCAL
    )
    network_post_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    network_error = models.CharField(max_length=300, blank=True)
    network_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["jam", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["jam", "seq"], name="post_seq_unique"),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="post_external_id_unique",
            ),
            models.UniqueConstraint(
                fields=["jam", "client_key"],
                condition=models.Q(client_key__isnull=False),
                name="post_client_key_unique",
            ),
        ]
        indexes = [models.Index(fields=["jam", "rev"], name="post_jam_rev")]

    def __str__(self) -> str:
        return f"#{self.seq} @{self.author_handle}: {self.text[:60]}"

    @property
    def is_visible(self) -> bool:
        return self.status == PostStatus.VISIBLE

    @property
    def is_audience_question(self) -> bool:
        return (
            self.kind == Kind.POST
            and self.author_role in (AuthorRole.PARTICIPANT, AuthorRole.MODERATOR)
            and "?" in self.body
        )
