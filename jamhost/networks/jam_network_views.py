"""The "Networks" section of a jam's edit page: which networks the jam runs on.

The section is drawn on the edit page by `{% jam_networks_section jam %}`; its form posts
here. Saved: back to the edit page. Refused: this page again with the host's input kept
and every problem listed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from jamhost.jams.models import Jam
from jamhost.jams.permissions import can_edit
from jamhost.networks.jam_networks import (
    OVER,
    JamNetworks,
    RouteChoice,
    jam_networks_get,
    jam_networks_set,
    jam_posters,
)
from jamhost.networks.models import JamNetwork, Network

FIELD_MAX = 300


def _values_from_state(state: JamNetworks) -> dict[str, Any]:
    def row(route: JamNetwork | None) -> dict[str, str]:
        if route is None:
            return {"service": "", "hashtag": "", "poster": ""}
        poster = str(route.poster_id) if route.poster_id else ""
        return {"service": route.service, "hashtag": route.hashtag, "poster": poster}

    return {
        "x": state.x_enabled,
        "bluesky_on": state.bluesky is not None,
        "bluesky": row(state.bluesky),
        "mastodon": [row(r) for r in state.mastodon],
    }


def _values_from_post(request: HttpRequest) -> dict[str, Any]:
    post = request.POST

    def text(value: str | None) -> str:
        return (value or "")[:FIELD_MAX]

    services = post.getlist("mastodon_service")
    tags = post.getlist("mastodon_hashtag")
    posters = post.getlist("mastodon_poster")
    rows = []
    for i in range(min(max(len(services), len(tags)), 20)):
        row = {
            "service": text(services[i] if i < len(services) else "").strip(),
            "hashtag": text(tags[i] if i < len(tags) else ""),
            "poster": text(posters[i] if i < len(posters) else ""),
        }
        if row["service"] or row["hashtag"].strip():  # the blank "add" row is no route
            rows.append(row)
    return {
        "x": post.get("x") == "on",
        "bluesky_on": post.get("bluesky") == "on",
        "bluesky": {
            "service": "",
            "hashtag": text(post.get("bluesky_hashtag")),
            "poster": text(post.get("bluesky_poster")),
        },
        "mastodon": rows,
    }


def _poster_id(raw: str, label: str) -> int | None:
    raw = raw.strip()
    if raw in ("", "none"):
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ValidationError(f"{label}: pick an account from the list, or none.")
    return int(raw)


def _choices(values: dict[str, Any]) -> list[RouteChoice]:
    routes = []
    errors = []
    wanted = [(Network.BLUESKY, values["bluesky"])] if values["bluesky_on"] else []
    wanted += [(Network.MASTODON, row) for row in values["mastodon"]]
    for network, row in wanted:
        label = "Bluesky" if network == Network.BLUESKY else f"Mastodon {row['service'][:60]}"
        try:
            poster = _poster_id(row["poster"], label)
        except ValidationError as exc:
            errors.append(exc)
            continue
        routes.append(RouteChoice(network, row["service"], row["hashtag"], poster))
    if errors:
        raise ValidationError(errors)
    return routes


def section_context(
    jam: Jam, *, values: dict[str, Any] | None = None, errors: list[str] | None = None
) -> dict[str, Any]:
    """What templates/networks/_jam_networks.html draws."""
    state = jam_networks_get(jam=jam)
    values = values or _values_from_state(state)
    posters = jam_posters(jam=jam)
    mastodon_rows = [*values["mastodon"], {"service": "", "hashtag": "", "poster": ""}]
    return {
        "jam": jam,
        "state": state,
        "values": values,
        "mastodon_rows": mastodon_rows,
        "errors": errors or [],
        "over": jam.status in OVER,
        "bluesky_enabled": settings.BLUESKY_ENABLED,
        "mastodon_enabled": settings.MASTODON_ENABLED,
        "mastodon_instances": [i.rstrip("/") for i in settings.MASTODON_INSTANCES],
        "bluesky_posters": [a for a in posters if a.network == Network.BLUESKY],
        "mastodon_posters": [a for a in posters if a.network == Network.MASTODON],
    }


@login_required
@require_POST
def jam_networks_save(request: HttpRequest, slug: str) -> HttpResponse:
    jam = get_object_or_404(Jam.objects.select_related("host"), slug=slug)
    if not can_edit(user=request.user, jam=jam):
        raise PermissionDenied("Only the jam's host can change the networks it runs on.")
    values = _values_from_post(request)
    try:
        jam_networks_set(
            jam=jam, actor=request.user, x_enabled=values["x"], routes=_choices(values)
        )
    except ValidationError as exc:
        context = section_context(jam, values=values, errors=exc.messages)
        return render(request, "networks/jam_networks.html", context, status=400)
    messages.success(request, "Networks saved.")
    return redirect(reverse("jams:edit", args=[jam.slug]) + "#networks")
