"""What jamhost keeps about X: linked accounts (tokens encrypted at rest), sign-in attempts
in flight, each post's publishing attempts, each jam's ingest cursor and its API usage."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class XAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="x_account"
    )
    x_user_id = models.CharField(max_length=32, unique=True)
    username = models.CharField(max_length=50)
    name = models.CharField(max_length=120, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    # Fernet ciphertexts (networks.crypto); never logged, never shown.
    access_token = models.TextField()
    refresh_token = models.TextField(blank=True)
    expires_at = models.DateTimeField()
    scope = models.CharField(max_length=200, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    # Set while one process refreshes the tokens (X's refresh tokens are single-use), so
    # the call to X is made outside any transaction; see networks.accounts.x_access_token.
    refreshing_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"@{self.username} (X) for {self.user}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class OAuthState(models.Model):
    """One "Connect X" in flight: the state and PKCE code verifier stay here, server-side,
    between the redirect to X and the callback."""

    state = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code_verifier = models.TextField(help_text="Encrypted.")
    next_url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"X sign-in for {self.user} at {self.created_at:%H:%M}"


class Publication(models.Model):
    """Publishing one post to X, with a bounded bill (see networks.publishing).

    The lease keeps two workers from posting it at once. After an unclear outcome (no
    answer, a 5xx, garbage, a worker that died mid-call) the post is `in_doubt`: the next
    steps are look-ups of the author's own posts since `unclear_since`. `creates` and
    `lookups` count this run's calls to X (a Retry starts a new run)."""

    post = models.OneToOneField("posts.Post", on_delete=models.CASCADE, related_name="publication")
    next_attempt_at = models.DateTimeField(db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # What the lease holder is doing ("create", "lookup"): a create still in flight when
    # the lease runs out may have posted.
    in_flight = models.CharField(max_length=8, blank=True)
    in_doubt = models.BooleanField(default=False)
    unclear_since = models.DateTimeField(null=True, blank=True)
    lookups_from = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    creates = models.PositiveSmallIntegerField(default=0)
    lookups = models.PositiveSmallIntegerField(default=0)
    duplicate_seen = models.BooleanField(default=False)
    done = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"publication of post {self.post_id}"


class IngestCursor(models.Model):
    """Where the jam's recent-search ingest stands.

    `since_id` moves only after a whole search (every page) is stored; `next_token` and
    `pending_newest_id` let a poll that stopped half-way resume from the next page."""

    jam = models.OneToOneField("jams.Jam", on_delete=models.CASCADE, related_name="x_cursor")
    since_id = models.CharField(max_length=32, blank=True)
    next_token = models.CharField(max_length=200, blank=True)
    pending_newest_id = models.CharField(max_length=32, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    paused_until = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    rate_remaining = models.IntegerField(null=True, blank=True)
    rate_reset_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    failures = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"X ingest cursor of jam {self.jam_id}"


class ApiUsage(models.Model):
    """What a jam has used of the X API, for the host's cost panel."""

    jam = models.OneToOneField("jams.Jam", on_delete=models.CASCADE, related_name="x_usage")
    reads = models.PositiveBigIntegerField(default=0)
    # Of the reads, those spent confirming jamhost's own posts after unclear answers.
    lookup_reads = models.PositiveBigIntegerField(default=0)
    creates = models.PositiveBigIntegerField(default=0)
    creates_with_url = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"X usage of jam {self.jam_id}"


class XStatus(models.TextChoices):
    HELD = "held", "Goes to X once approved"
    QUEUED = "queued", "Queued for X"
    PUBLISHED = "published", "Published on X"
    FAILED = "failed", "Failed to publish"


class XPost(models.Model):
    """A post's life on X: the X post it is (one jamhost published, or one ingest stored,
    its newest version after edits) and, for a jamhost post, where publishing it stands.
    A post that never goes to X has none. The post shows it through post.elsewhere["x"],
    which networks.post_state keeps in step (posts names no network)."""

    post = models.OneToOneField(
        "posts.Post", on_delete=models.CASCADE, primary_key=True, related_name="on_x"
    )
    # One X post can be in several jams (it carries both hashtags): unique per jam.
    jam = models.ForeignKey("jams.Jam", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=XStatus.choices)
    x_id = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["jam", "x_id"],
                condition=models.Q(x_id__isnull=False),
                name="x_post_id_unique_per_jam",
            )
        ]
        indexes = [models.Index(fields=["status"], name="x_post_status")]

    def __str__(self) -> str:
        return f"post {self.post_id} on X: {self.status}"


# Bluesky and Mastodon (networks.gateway) ------------------------------------------------


class Network(models.TextChoices):
    X = "x", "X"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"


class LinkedAccount(models.Model):
    """A person's Bluesky or Mastodon account (X keeps XAccount). Secrets are Fernet
    ciphertexts (networks.crypto): Bluesky's app password is kept so a session whose
    refresh token ran out can be made again without asking the person."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="linked_accounts"
    )
    network = models.CharField(max_length=10, choices=Network.choices)
    # The server the tokens belong to: a Bluesky PDS, a Mastodon instance (base URL).
    service = models.URLField(max_length=200)
    remote_id = models.CharField(max_length=300)  # a DID, a Mastodon account URI
    handle = models.CharField(max_length=200)  # alice.bsky.social, alice@mastodon.example
    display_name = models.CharField(max_length=120, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    profile_url = models.URLField(max_length=500, blank=True)
    access_token = models.TextField()
    refresh_token = models.TextField(blank=True)
    app_password = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    refreshing_until = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "network", "service"], name="linked_account_one_per_service"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.get_network_display()}) for {self.user}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class MastodonApp(models.Model):
    """jamhost's app registration on one Mastodon instance, made on first use, and the
    instance's own text rules as it last stated them."""

    service = models.URLField(max_length=200, unique=True)
    client_id = models.CharField(max_length=200)
    client_secret = models.TextField()  # encrypted
    redirect_uri = models.URLField(max_length=300)
    max_characters = models.PositiveIntegerField(default=500)
    url_weight = models.PositiveSmallIntegerField(default=23)
    rules_read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"jamhost on {self.service}"


class LinkState(models.Model):
    """One "Connect Mastodon" in flight, between the redirect and the callback."""

    state = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    service = models.URLField(max_length=200)
    next_url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Mastodon sign-in for {self.user} on {self.service}"


class JamNetwork(models.Model):
    """One network a jam runs on, with its hashtag there and the account that posts the
    host's questions. A jam with no X row runs on X as before (when X is configured)."""

    jam = models.ForeignKey("jams.Jam", on_delete=models.CASCADE, related_name="networks")
    network = models.CharField(max_length=10, choices=Network.choices)
    service = models.URLField(max_length=200, blank=True)  # a Mastodon instance
    hashtag = models.CharField(max_length=100, blank=True, help_text="Empty: the jam's.")
    poster = models.ForeignKey(
        LinkedAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["jam", "network", "service"], name="jam_network_once_per_service"
            ),
        ]
        ordering = ["jam", "network", "service"]

    def __str__(self) -> str:
        where = f" {self.service}" if self.service else ""
        return f"{self.get_network_display()}{where} for jam {self.jam_id}"


class DeliveryStatus(models.TextChoices):
    HELD = "held", "Waits for approval"
    QUEUED = "queued", "Queued"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """Publishing one jamhost post to one of its jam's networks (Bluesky, Mastodon).

    `remote_id` is written before the first call when the network lets jamhost choose
    the id (Bluesky's record key), so ingest recognises the post even if the answer was
    lost. Every resend carries the same idempotency key, so resending after an unclear
    answer cannot post twice; `attempts` is bounded (networks.deliveries)."""

    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, related_name="deliveries")
    route = models.ForeignKey(JamNetwork, on_delete=models.CASCADE, related_name="deliveries")
    account = models.ForeignKey(
        LinkedAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    key = models.CharField(max_length=64)  # the idempotency key / record key
    remote_id = models.CharField(max_length=300, blank=True, db_index=True)
    url = models.URLField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "route"], name="delivery_once_per_route"),
        ]

    def __str__(self) -> str:
        return f"post {self.post_id} to {self.route}"


class NetworkCursor(models.Model):
    """Where ingest of one jam network stands: `since` moves only after a whole search
    (every page) is stored; `next_page` resumes a poll that stopped half-way."""

    route = models.OneToOneField(JamNetwork, on_delete=models.CASCADE, related_name="cursor")
    since = models.CharField(max_length=300, blank=True)
    next_page = models.CharField(max_length=500, blank=True)
    pending_newest = models.CharField(max_length=300, blank=True)
    # The live stream's position (Jetstream's time_us, Mastodon's last status id).
    stream_position = models.CharField(max_length=64, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    paused_until = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    rate_remaining = models.IntegerField(null=True, blank=True)
    rate_reset_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    failures = models.PositiveIntegerField(default=0)
    reads = models.PositiveBigIntegerField(default=0)
    creates = models.PositiveBigIntegerField(default=0)
    # The closing re-read (networks.cursors): the tag read once more from the jam's start,
    # NETWORK_REREAD_MINUTES after its end; `rereading` while its pages are walked.
    rereading = models.BooleanField(default=False, db_default=False)
    reread_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ingest cursor of {self.route}"
