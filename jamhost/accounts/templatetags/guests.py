"""The live room's guest box: shown to people not signed in when the host allows guests."""

from __future__ import annotations

import uuid
from typing import Any

from django import template

from jamhost.accounts.guest_views import session_guest
from jamhost.accounts.guests import guest_policy, guest_posts
from jamhost.accounts.models import GuestPolicy

register = template.Library()


@register.inclusion_tag("accounts/_guest_box.html", takes_context=True)
def guest_box(context: dict[str, Any], jam: Any) -> dict[str, Any]:
    request = context.get("request")
    policy = guest_policy(jam=jam) if request is not None else None
    guest = session_guest(request, jam) if policy is not None else None
    return {
        "jam": jam,
        "policy": policy,
        "guest": guest,
        "posts": guest_posts(guest=guest) if guest else [],
        "client_key": uuid.uuid4().hex,
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


@register.inclusion_tag("accounts/_guest_settings.html", takes_context=True)
def guest_settings(context: dict[str, Any], jam: Any) -> dict[str, Any]:
    policy = GuestPolicy.objects.filter(jam=jam).first()
    return {
        "jam": jam,
        "enabled": bool(policy and policy.enabled),
        "hold": policy.hold_for_moderation if policy else True,
        "csrf_token": context.get("csrf_token"),
    }
