"""A post's state on X as the networks app keeps it (networks.XPost), for assertions."""

from __future__ import annotations

from typing import Any

from jamhost.networks.models import XPost

LOCAL = "local"  # no XPost: the post never went to X


def on_x(post: Any) -> XPost:
    """The post's XPost, read now; one with status "local" when it has none."""
    found = XPost.objects.filter(post_id=post.pk).first()
    return found or XPost(post_id=post.pk, status=LOCAL, x_id=None, error="")
