from __future__ import annotations

from django.conf import settings
from django.db import models

from jamhost.posts.weblinks import avatar_url

# The status_reason of a post taken out of its jam because its author deleted their
# account under the jam's "remove" policy: its words are gone, so it is never shown again.
AUTHOR_DELETED_REASON = "Its author deleted their account"


# The status_reason of a post its author (a guest: jamhost.accounts.guests) took back.
WITHDRAWN_REASON = "withdrawn by its author (a guest)"

# The author_key of a guest's post starts with this (jamhost.accounts.guests).
GUEST_AUTHOR_PREFIX = "guest:"


# author_key of a post whose author deleted their account: "deleted:<post id>".
DELETED_AUTHOR_PREFIX = "deleted:"


def app_author_key(user_id: int) -> str:
    """The author_key of a jamhost user's posts (made here, or on X from a linked account)."""
    return f"app:{user_id}"


class PostStatus(models.TextChoices):
    VISIBLE = "visible", "Visible"
    PENDING = "pending", "Pending"
    HIDDEN = "hidden", "Hidden"


class Source(models.TextChoices):
    APP = "app", "jamhost"
    X = "x", "X"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    IMPORT = "import", "Import"


class Kind(models.TextChoices):
    POST = "post", "Post"
    QUESTION = "question", "Question release"


class AuthorRole(models.TextChoices):
    HOST = "host", "Host"
    MODERATOR = "moderator", "Moderator"
    PANELIST = "panelist", "Panelist"
    PARTICIPANT = "participant", "Participant"


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
    # The post's id where it came from: an X id, an at:// URI, a Mastodon status URI.
    external_id = models.CharField(max_length=300, null=True, blank=True)
    # Links for people: the original post, and its author's profile (network posts).
    remote_url = models.URLField(max_length=500, blank=True)
    author_url = models.URLField(max_length=500, blank=True)
    # Where a jamhost post went: {"x": {"status", "url", "error"}, "bluesky": {…},
    # "mastodon": {…}}, kept by the networks app so that every render stays
    # query-free. Statuses: held, queued, published, failed.
    elsewhere = models.JSONField(default=dict, blank=True)
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
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when its author edited it on X (the text changed in place, same seq).
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["jam", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["jam", "seq"], name="post_seq_unique"),
            models.UniqueConstraint(
                fields=["jam", "source", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="post_external_id_unique_per_jam",
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
    def avatar_src(self) -> str:
        """The author's picture to show: only from the networks' avatar hosts."""
        return avatar_url(self.author_avatar_url)

    @property
    def is_visible(self) -> bool:
        return self.status == PostStatus.VISIBLE

    @property
    def author_deleted(self) -> bool:
        """The author deleted their jamhost account: nothing links back to them."""
        return self.author_key.startswith(DELETED_AUTHOR_PREFIX)

    @property
    def is_guest(self) -> bool:
        return self.author_key.startswith(GUEST_AUTHOR_PREFIX)

    @property
    def is_removed_with_author(self) -> bool:
        return self.status == PostStatus.HIDDEN and self.status_reason == AUTHOR_DELETED_REASON

    @property
    def is_audience_question(self) -> bool:
        return (
            self.kind == Kind.POST
            and self.author_role in (AuthorRole.PARTICIPANT, AuthorRole.MODERATOR)
            and "?" in self.body
        )

    @property
    def moderation_actions(self) -> tuple[str, ...]:
        """The one-click actions this post allows as it is now, computed here once: the
        moderation template shows these buttons, console.js presses only these, and the
        moderation services (post_moderation, author_moderation's block) refuse any other
        action that is not already done."""
        actions: set[str] = set()
        if self.status == PostStatus.PENDING:
            actions.add("approve")
        if self.status != PostStatus.HIDDEN:
            actions.add("hide")
        elif not self.is_removed_with_author and self.status_reason != WITHDRAWN_REASON:
            actions.add("restore")
        if self.status == PostStatus.VISIBLE:
            actions.add("unpin" if self.pinned else "pin")
            if self.question_id is not None and self.kind == Kind.POST:
                actions.add("unfeature" if self.featured else "feature")
        if self.is_audience_question:
            actions.add("unanswer" if self.answered else "answer")
        if self.kind == Kind.POST and self.author_role != AuthorRole.HOST:
            actions.add("block")
        return tuple(sorted(actions))


class ModerationAction(models.TextChoices):
    APPROVE = "approve", "approved"
    HIDE = "hide", "hid"
    RESTORE = "restore", "restored"
    PIN = "pin", "pinned"
    UNPIN = "unpin", "unpinned"
    FEATURE = "feature", "featured"
    UNFEATURE = "unfeature", "unfeatured"
    ANSWER = "answer", "marked answered"
    UNANSWER = "unanswer", "marked unanswered"
    BLOCK = "block", "blocked"
    UNBLOCK = "unblock", "unblocked"
    MUTED_WORDS = "muted_words", "set the muted words"
    MODE = "mode", "switched the moderation mode"
    # Written by jamhost.audience.flags: the flags reached the jam's threshold (the
    # actor is the system), and a moderator dismissed a post's flags.
    FLAGGED = "flagged", "held back on flags"
    UNFLAGGED = "unflagged", "dismissed the flags on"
    # Written by jamhost.posts.drafts: a panelist's drafted answer went out as a post.
    DRAFT_SENT = "draft_sent", "sent a drafted answer"
    # Written by jamhost.accounts.guests: a guest took back their own post.
    WITHDRAW = "withdraw", "withdrew their own post"
    # Written by jamhost.polls.audit: polls added, launched, closed early and sent to X.
    POLL_ADD = "poll_add", "added a run-sheet poll"
    POLL_REMOVE = "poll_remove", "removed a run-sheet poll"
    POLL_LAUNCH = "poll_launch", "launched a poll"
    POLL_CLOSE = "poll_close", "closed a poll early"
    POLL_X = "poll_x", "sent to X the poll"


class AuditEntry(models.Model):
    """One moderation action as it was applied: who, what, when, before and after, why.

    `key` is the idempotency key the action arrived with; the unique constraint is what
    keeps an action resent after a reconnect from being applied twice.
    """

    jam = models.ForeignKey("jams.Jam", on_delete=models.CASCADE, related_name="audit_entries")
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    author_key = models.CharField(max_length=80, blank=True, help_text="The author acted on.")
    author_handle = models.CharField(max_length=80, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text so the log still says who acted after the account is gone.
    actor_handle = models.CharField(max_length=150)
    action = models.CharField(max_length=12, choices=ModerationAction.choices)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    key = models.CharField(max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        constraints = [
            models.UniqueConstraint(
                fields=["jam", "key"],
                condition=models.Q(key__isnull=False),
                name="audit_key_unique",
            )
        ]
        indexes = [models.Index(fields=["jam", "-created_at"], name="audit_jam_time")]

    def __str__(self) -> str:
        return f"@{self.actor_handle} {self.get_action_display()} ({self.created_at:%H:%M:%S})"

    def changes(self) -> list[tuple[str, str, str]]:
        """(field, before, after) for each field the action changed, worded for the log."""

        def shown(value: object) -> str:
            if isinstance(value, bool):
                return "yes" if value else "no"
            if isinstance(value, list):
                return ", ".join(str(v) for v in value) or "none"
            return "–" if value in (None, "") else str(value)

        keys = list(dict.fromkeys([*self.before, *self.after]))
        return [
            (key.replace("_", " "), shown(self.before.get(key)), shown(self.after.get(key)))
            for key in keys
            if self.before.get(key) != self.after.get(key)
        ]


class Block(models.Model):
    """An author blocked in one jam: their posts there are hidden, new ones arrive hidden."""

    jam = models.ForeignKey("jams.Jam", on_delete=models.CASCADE, related_name="blocks")
    author_key = models.CharField(max_length=80)
    author_handle = models.CharField(max_length=80)
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["jam", "author_key"], name="block_author_unique")
        ]

    def __str__(self) -> str:
        return f"@{self.author_handle} blocked in {self.jam_id}"


class AnswerDraft(models.Model):
    """A panelist's answer to a run-sheet question, written before the question is out.

    It becomes a post only through the compose path (posts.drafts.draft_send), once: the
    post it became is kept, and its client_key ("draft:<id>") is unique per jam, so a
    send repeated by a second sweep or a double tap stores one post.
    """

    question = models.ForeignKey(
        "jams.Question", on_delete=models.CASCADE, related_name="answer_drafts"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="answer_drafts"
    )
    body = models.TextField()
    send_on_release = models.BooleanField(
        default=False, help_text="Post it the moment its question is released."
    )
    post = models.OneToOneField(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="draft"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why sending on release did not go through (too long after a hashtag change, the
    # panelist no longer one): shown to the panelist, who can edit and send it again.
    send_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["question__number", "created_at", "id"]
        indexes = [
            models.Index(
                fields=["send_on_release"],
                condition=models.Q(send_on_release=True, sent_at__isnull=True),
                name="draft_waiting_for_release",
            )
        ]

    def __str__(self) -> str:
        return f"draft by {self.author_id} for {self.question_id}"

    @property
    def client_key(self) -> str:
        return f"draft:{self.pk}"

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None
