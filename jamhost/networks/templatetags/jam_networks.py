"""The jam's edit page's "Networks" section, without jams importing networks:
`{% load jam_networks %}{% jam_networks_section jam %}`."""

from __future__ import annotations

from typing import Any

from django import template

from jamhost.networks.jam_network_views import section_context

register = template.Library()


@register.inclusion_tag("networks/_jam_networks.html", takes_context=True)
def jam_networks_section(context: Any, jam: Any) -> dict[str, Any]:
    return {**section_context(jam), "csrf_token": context.get("csrf_token")}
