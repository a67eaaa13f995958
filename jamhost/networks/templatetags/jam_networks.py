"""The jam's networks on its pages, without jams importing networks: the edit page's
"Networks" section (`{% jam_networks_section jam %}`) and, for its hosts, how reading
and posting on Bluesky and Mastodon goes (`{% jam_routes_status jam %}`)."""

from __future__ import annotations

from typing import Any

from django import template

from jamhost.jams.permissions import can_edit
from jamhost.networks.jam_network_views import section_context
from jamhost.networks.route_status import routes_status

register = template.Library()


@register.inclusion_tag("networks/_jam_networks.html", takes_context=True)
def jam_networks_section(context: Any, jam: Any) -> dict[str, Any]:
    return {**section_context(jam), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("networks/_jam_routes.html", takes_context=True)
def jam_routes_status(context: Any, jam: Any) -> dict[str, Any]:
    request = context.get("request")
    if not can_edit(user=getattr(request, "user", None), jam=jam):
        return {"routes": []}
    return {"routes": routes_status(jam), "jam": jam}
