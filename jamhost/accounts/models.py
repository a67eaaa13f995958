from __future__ import annotations

from django.db import models

from jamhost.posts.models import GUEST_AUTHOR_PREFIX


class GuestPolicy(models.Model):
    """Whether people may post in a jam without an account, as the host set it."""

    jam = models.OneToOneField("jams.Jam", on_delete=models.CASCADE, related_name="guest_policy")
    enabled = models.BooleanField(default=False)
    hold_for_moderation = models.BooleanField(
        default=True, help_text="Guests' posts wait for a moderator's approval."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"guests {'on' if self.enabled else 'off'} in {self.jam_id}"


class Guest(models.Model):
    """Someone posting in one jam without an account: a display name, held in their
    browser session. Their posts carry the author key "guest:<id>"."""

    jam = models.ForeignKey("jams.Jam", on_delete=models.CASCADE, related_name="guests")
    display_name = models.CharField(max_length=40)
    # The name's look-alike skeleton (case, width and letters of other scripts that look
    # Latin folded), compared with the jam's people's names.
    name_key = models.CharField(max_length=100, db_index=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"guest {self.display_name} in {self.jam_id}"

    @property
    def author_key(self) -> str:
        return f"{GUEST_AUTHOR_PREFIX}{self.pk}"
