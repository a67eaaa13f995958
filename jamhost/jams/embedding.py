"""Which sites may show a jam's embed: the host's list of origins (scheme, host and port,
nothing else). The embed page puts them in its Content-Security-Policy's frame-ancestors
(jamhost.live.embed), so a browser refuses the embed on any other site.

An origin goes into a response header as it is stored, so only what this module builds
is ever stored: a lower-case http(s) scheme, a host of letters, digits, dots and hyphens
(international names in their xn-- form) or an IP address, and a port.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from jamhost.jams.models import Jam

MAX_EMBED_ORIGINS = 20
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Origins are never written with these; a host who pastes a list may separate them so.
_SEPARATORS = re.compile(r"[\s,;]+")


def _shown(raw: str) -> str:
    return raw if len(raw) <= 80 else raw[:77] + "…"


def _host(host: str, raw: str) -> str:
    """The host as a browser compares it: lower case, xn-- for international names."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValidationError(f"“{_shown(raw)}” does not name a valid host.") from exc
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValidationError(f"“{_shown(raw)}” does not name a valid host.")
    return ascii_host


def embed_origin_clean(raw: str) -> str:
    """One origin as the host typed it, checked and written as a browser writes it
    (`https://news.example.org`, `http://127.0.0.1:8080`); ValidationError says why not."""
    raw = raw.strip()
    if "*" in raw:
        raise ValidationError(
            f"“{_shown(raw)}”: wildcards are not allowed; list each site, such as "
            "https://news.example.org."
        )
    if "://" not in raw:
        raise ValidationError(
            f"“{_shown(raw)}” has no scheme: write it as https://{_shown(raw)} (or http://)."
        )
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(
            f"“{_shown(raw)}” is not a site's address; write it as https://news.example.org."
        ) from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValidationError(f"“{_shown(raw)}”: only http:// and https:// sites can show a jam.")
    if port == 0:
        raise ValidationError(f"“{_shown(raw)}”: a port is a number from 1 to 65535.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(f"“{_shown(raw)}”: leave out the user name and password.")
    if not parts.hostname:
        raise ValidationError(f"“{_shown(raw)}” names no host.")
    host = _host(parts.hostname, raw)
    origin = f"{scheme}://{host}" + ("" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in raw or "#" in raw:
        raise ValidationError(
            f"“{_shown(raw)}”: give the site alone, without a path: {origin} "
            "(every page of the site may then show the jam)."
        )
    return origin


def embed_origins_parse(text: str) -> list[str]:
    """The origins in `text` (one a line; commas and spaces also separate), checked and
    without repeats, in the order given. ValidationError lists every line that is not an
    origin, each with what to write instead."""
    origins: list[str] = []
    errors: list[str] = []
    for raw in _SEPARATORS.split(text):
        if not raw:
            continue
        try:
            origin = embed_origin_clean(raw)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        if origin not in origins:
            origins.append(origin)
    if errors:
        raise ValidationError(errors)
    if len(origins) > MAX_EMBED_ORIGINS:
        raise ValidationError(
            f"At most {MAX_EMBED_ORIGINS} sites may show a jam; this list has {len(origins)}."
        )
    return origins


def embed_origins_of(jam: Jam) -> list[str]:
    """The sites that may show the jam's embed, as stored, less any entry that is not an
    origin as embed_origin_clean writes it (a row changed by other means than
    jam_embed_origins_set cannot put anything else into a header)."""
    kept = []
    for origin in jam.embed_origins if isinstance(jam.embed_origins, list) else []:
        try:
            if isinstance(origin, str) and embed_origin_clean(origin) == origin:
                kept.append(origin)
        except ValidationError:
            continue
    return kept


def jam_embed_origins_set(*, jam: Jam, text: str) -> list[str]:
    """Replace the sites that may show the jam's embed with those in `text` (see
    embed_origins_parse); nothing changes when it raises. Returns the stored list."""
    origins = embed_origins_parse(text)
    with transaction.atomic():
        Jam.objects.filter(pk=jam.pk).update(embed_origins=origins)
    jam.embed_origins = origins
    return origins
