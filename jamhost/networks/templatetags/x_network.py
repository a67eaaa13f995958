"""The jam page's X panel: whether X is connected, and for the host what the jam has
used of the X API and what that costs."""

from __future__ import annotations

from typing import Any

from django import template

from jamhost.jams.permissions import can_edit
from jamhost.networks.accounts import x_configured
from jamhost.networks.models import IngestCursor, XAccount
from jamhost.networks.usage import jam_cost

register = template.Library()


@register.inclusion_tag("networks/_jam_panel.html", takes_context=True)
def x_jam_panel(context: dict[str, Any], jam: Any, compact: bool = False) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    is_host = can_edit(user=user, jam=jam)
    panel: dict[str, Any] = {
        "jam": jam,
        "x_configured": x_configured(),
        "is_host": is_host,
        "compact": compact,
    }
    if panel["x_configured"] and is_host:
        panel["cost"] = jam_cost(jam_id=jam.pk)
        panel["cursor"] = IngestCursor.objects.filter(jam=jam).first()
        panel["host_account"] = XAccount.objects.filter(user_id=jam.host_id).first()
    return panel
