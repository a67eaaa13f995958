"""Mastodon's documented entities (mastodon_entities.json: the attributes its documentation
at github.com/mastodon/documentation does not mark optional) and the check of the
Mastodon-compatible server's answers against them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ENTITIES = Path(__file__).with_name("mastodon_entities.json")
ROUTE_ENTITIES = {
    "app_create": ["Application", "CredentialApplication"],
    "oauth_token": ["Token"],
    "verify_credentials": ["Account", "CredentialAccount"],
    "instance_v1": ["V1_Instance"],
    "instance_v2": ["Instance"],
    "status_create": ["Status"],
    "status_get": ["Status"],
    "status_delete": ["Status"],
    "stream": ["Status"],
}
TYPES = {"String": str, "Boolean": bool, "Integer": int, "Array": list, "Hash": dict}


@cache
def entities() -> dict[str, Any]:
    return dict(json.loads(ENTITIES.read_text()))


def _values(body: Any, path: list[str]) -> list[Any]:
    """The values at `path` (lists are looked into); a missing or null parent gives none."""
    found = [body]
    for name in path:
        nxt: list[Any] = []
        for value in found:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and item.get(name) is not None:
                    nxt.append(item[name])
        found = nxt
    return found


def entity_problems(entity: str, body: Any) -> list[str]:
    """What `body` lacks of `entity`'s documented, non-optional attributes."""
    problems = []
    for path, spec in entities()[entity].items():
        *parents, name = path.split("/")
        for holder in _values(body, parents):
            for item in holder if isinstance(holder, list) and parents else [holder]:
                if not isinstance(item, dict):
                    continue
                if name not in item:
                    problems.append(f"{entity}.{path} is missing")
                    continue
                value = item[name]
                if value is None:
                    if not spec["nullable"]:
                        problems.append(f"{entity}.{path} is null")
                    continue
                kind = TYPES.get(str(spec.get("type", "")).split(" ")[0])
                if kind is not None and not isinstance(value, kind):
                    problems.append(f"{entity}.{path} is not {spec['type']}")
    return problems


def status_problems(status: Any) -> list[str]:
    problems = entity_problems("Status", status)
    if isinstance(status, dict):
        problems += entity_problems("Account", status.get("account"))
        for tag in status.get("tags") or []:
            problems += entity_problems("Status::Tag", tag)
        for mention in status.get("mentions") or []:
            problems += entity_problems("Status::Mention", mention)
        if status.get("reblog") is not None:
            problems += status_problems(status["reblog"])
    return problems


def validate_answer(method: str, route: str, status: int, body: Any) -> None:
    if status >= 400:
        problems = (
            [] if isinstance(body, dict) and isinstance(body.get("error"), str) else ["no error"]
        )
    elif route in ("tag_timeline", "search"):
        listed = body if route == "tag_timeline" else body.get("statuses")
        problems = [p for s in listed for p in status_problems(s)]
    elif ROUTE_ENTITIES.get(route) == ["Status"]:
        problems = status_problems(body)
    elif route in ROUTE_ENTITIES:
        problems = [p for e in ROUTE_ENTITIES[route] for p in entity_problems(e, body)]
        if route == "verify_credentials":
            problems += entity_problems("Account", body)
    else:
        problems = [f"no entity for {route}"]
    if problems:
        raise AssertionError("; ".join(problems))
