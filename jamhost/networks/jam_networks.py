"""The networks a jam runs on, as its host picks them on the jam's edit page: X on or off,
Bluesky, and Mastodon instances, each with its hashtag there and the account that posts
the host's questions.

A route the host turns off is kept, disabled (its deliveries and cursor stay readable);
turning it on again enables the same row. A hashtag equal to the jam's is stored blank, so
the route follows the jam's hashtag when the host changes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from jamhost.jams.hashtags import hashtag_clean, hashtag_key
from jamhost.jams.lifecycle import jam_stamp_header
from jamhost.jams.locks import jam_lock
from jamhost.jams.models import Jam, JamStatus, Membership, Role
from jamhost.jams.permissions import can_edit
from jamhost.networks.accounts import x_configured
from jamhost.networks.models import JamNetwork, LinkedAccount, Network

MAX_MASTODON_INSTANCES = 5
LOCAL_HOSTS = ("127.0.0.1", "localhost")
OVER = (JamStatus.ENDED, JamStatus.ARCHIVED)


@dataclass(frozen=True)
class RouteChoice:
    """One network the host wants the jam on (Bluesky, or a Mastodon instance)."""

    network: str
    service: str = ""  # a Mastodon instance's base URL, as typed
    hashtag: str = ""  # blank: the jam's
    poster_id: int | None = None  # a LinkedAccount; None: questions are not posted there


@dataclass
class JamNetworks:
    """What the edit page shows: X's state and the enabled routes."""

    x_offered: bool
    x_enabled: bool
    bluesky: JamNetwork | None
    mastodon: list[JamNetwork] = field(default_factory=list)


def mastodon_service_clean(url: str) -> str:
    """The instance's base URL (scheme://host[:port], host lower case), or raise
    ValidationError: https only (http for 127.0.0.1 and localhost), no path, query or
    credentials, and one of MASTODON_INSTANCES when that list is set."""
    text = (url or "").strip()
    if not text:
        raise ValidationError(
            "Enter the Mastodon instance's address, such as https://mastodon.social."
        )
    if len(text) > 200 or any(c.isspace() or ord(c) < 0x20 for c in text):
        raise ValidationError(f"“{text[:60]}” is not a web address.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"“{text[:60]}” is not a web address.") from exc
    host = (parts.hostname or "").lower()
    scheme = parts.scheme.lower()
    if not host or scheme not in ("http", "https"):
        raise ValidationError(
            f"“{text[:60]}” is not a web address: start it with https://, such as "
            "https://mastodon.social."
        )
    if scheme == "http" and host not in LOCAL_HOSTS:
        raise ValidationError(f"Use https:// for {host}: Mastodon instances answer over https.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValidationError(f"Give only the instance's address, such as {scheme}://{host}.")
    if parts.path not in ("", "/"):
        raise ValidationError(
            f"Give only the instance's address, without a path: {scheme}://{host}."
        )
    base = f"{scheme}://{host}" + (f":{port}" if port else "")
    allowed = [item.rstrip("/").lower() for item in settings.MASTODON_INSTANCES]
    if allowed and base not in allowed:
        raise ValidationError(
            f"{base} is not one of the Mastodon instances this site works with: "
            f"{', '.join(allowed)}."
        )
    return base


def route_hashtag_clean(jam: Jam, tag: str) -> str:
    """The route's hashtag as stored: blank when it is the jam's (or left blank)."""
    if not (tag or "").strip():
        return ""
    cleaned = hashtag_clean(tag)
    return "" if hashtag_key(cleaned) == hashtag_key(jam.hashtag) else cleaned


def jam_posters(*, jam: Jam) -> list[LinkedAccount]:
    """The linked accounts that may post the jam's questions: the host's and co-hosts'
    (not revoked), by network and handle."""
    hosts = {jam.host_id} | set(
        Membership.objects.filter(jam=jam, role=Role.HOST).values_list("user_id", flat=True)
    )
    return list(
        LinkedAccount.objects.filter(user_id__in=hosts, revoked_at__isnull=True)
        .select_related("user")
        .exclude(network=Network.X)
        .order_by("network", "handle", "pk")
    )


def jam_networks_get(*, jam: Jam) -> JamNetworks:
    rows = list(JamNetwork.objects.filter(jam=jam).select_related("poster"))
    x_row = next((r for r in rows if r.network == Network.X), None)
    enabled = [r for r in rows if r.enabled]
    return JamNetworks(
        x_offered=x_configured(),
        x_enabled=x_configured() and (x_row is None or x_row.enabled),
        bluesky=next((r for r in enabled if r.network == Network.BLUESKY), None),
        mastodon=[r for r in enabled if r.network == Network.MASTODON],
    )


def _poster(choice: RouteChoice, posters: dict[int, LinkedAccount], label: str) -> Any:
    if choice.poster_id is None:
        return None
    account = posters.get(choice.poster_id)
    if account is None or account.network != choice.network:
        raise ValidationError(
            f"{label}: pick one of the host's or co-hosts' {Network(choice.network).label} "
            "accounts to post the questions, or none."
        )
    return account


def _routes_clean(jam: Jam, routes: list[RouteChoice]) -> list[tuple[str, str, str, Any]]:
    """(network, service, hashtag, poster) for each wanted route, or ValidationError with
    every problem found, each naming its route."""
    posters = {a.pk: a for a in jam_posters(jam=jam)}
    errors: list[ValidationError] = []
    out: list[tuple[str, str, str, Any]] = []
    seen: set[tuple[str, str]] = set()
    mastodon_count = 0
    for choice in routes:
        if choice.network == Network.BLUESKY:
            label = "Bluesky"
            if not settings.BLUESKY_ENABLED:
                errors.append(ValidationError("Bluesky is not available on this site."))
                continue
            service = ""
        elif choice.network == Network.MASTODON:
            label = f"Mastodon {choice.service.strip()[:60] or '(no address)'}"
            if not settings.MASTODON_ENABLED:
                errors.append(ValidationError("Mastodon is not available on this site."))
                continue
            mastodon_count += 1
            try:
                service = mastodon_service_clean(choice.service)
            except ValidationError as exc:
                errors.append(ValidationError(f"Mastodon: {' '.join(exc.messages)}"))
                continue
            label = f"Mastodon {service}"
        else:
            errors.append(ValidationError(f"Unknown network “{choice.network[:20]}”."))
            continue
        if (choice.network, service) in seen:
            errors.append(ValidationError(f"{label} is listed twice."))
            continue
        seen.add((choice.network, service))
        try:
            tag = route_hashtag_clean(jam, choice.hashtag)
            poster = _poster(choice, posters, label)
        except ValidationError as exc:
            errors.append(ValidationError(f"{label}: {' '.join(exc.messages)}"))
            continue
        out.append((choice.network, service, tag, poster))
    if mastodon_count > MAX_MASTODON_INSTANCES:
        errors.append(
            ValidationError(
                f"A jam can run on at most {MAX_MASTODON_INSTANCES} Mastodon instances."
            )
        )
    if errors:
        raise ValidationError(errors)
    return out


def jam_networks_set(
    *, jam: Jam, actor: Any, x_enabled: bool, routes: list[RouteChoice]
) -> JamNetworks:
    """Make the jam run on exactly these networks: X on or off (when X is configured),
    and each of `routes`; any other route of the jam is disabled. Idempotent.

    Raises ValidationError (one message per problem, each naming the network) when the
    actor cannot edit the jam, the jam is over, a network is not available on this site,
    an instance address or a hashtag is not valid, an instance is listed twice, or a
    poster is not a linked account of the host or a co-host on that network."""
    if not can_edit(user=actor, jam=jam):
        raise ValidationError("Only the jam's host can change the networks it runs on.")
    if jam.status in OVER:
        raise ValidationError("The jam is over: the networks it ran on can no longer change.")
    wanted = _routes_clean(jam, routes)
    with transaction.atomic():
        locked = jam_lock(jam)  # one change at a time
        existing = {(r.network, r.service): r for r in JamNetwork.objects.filter(jam=jam)}
        x_row = existing.get((Network.X, ""))
        # No X row means X as before: a row is written only to turn X off (or back on).
        if x_configured() and (x_row is not None or not x_enabled):
            _route_save(x_row, jam, Network.X, "", "", None, x_enabled)
        kept: set[tuple[str, str]] = set()
        for network, service, tag, poster in wanted:
            _route_save(existing.get((network, service)), jam, network, service, tag, poster, True)
            kept.add((network, service))
        for key, row in existing.items():
            if key[0] != Network.X and key not in kept and row.enabled:
                row.enabled = False
                row.save(update_fields=["enabled"])
        # The text rules a post is held to follow the routes, and are read once per
        # header rev (networks.text_rules): a new rev for open rooms and every process.
        jam_stamp_header(locked)
        jam.rev, jam.header_rev = locked.rev, locked.header_rev
    return jam_networks_get(jam=jam)


def _route_save(
    row: JamNetwork | None,
    jam: Jam,
    network: str,
    service: str,
    tag: str,
    poster: Any,
    enabled: bool,
) -> None:
    if row is None:
        JamNetwork.objects.create(
            jam=jam, network=network, service=service, hashtag=tag, poster=poster, enabled=enabled
        )
        return
    row.hashtag, row.poster, row.enabled = tag, poster, enabled
    row.save(update_fields=["hashtag", "poster", "enabled"])
