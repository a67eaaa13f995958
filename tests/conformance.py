"""X's reference test cases for its text rules (twitter-text's conformance suite), read at
test time as their README asks, from ../shared/twitter-text-conformance/ beside the checkout.

JAMHOST_TWITTER_TEXT_CONFORMANCE names the folder; unset, it is the first of
../shared/twitter-text-conformance (relative to the repository) and
/work/shared/twitter-text-conformance that exists. Missing files fail the run under CI=true
and skip these tests elsewhere, with the reason.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV = "JAMHOST_TWITTER_TEXT_CONFORMANCE"
DEFAULTS = (
    ROOT.parent / "shared" / "twitter-text-conformance",
    Path("/work/shared/twitter-text-conformance"),
)


def conformance_dir() -> Path | None:
    named = os.environ.get(ENV, "")
    if named:
        return Path(named)
    return next((path for path in DEFAULTS if path.is_dir()), None)


@cache
def _load(name: str) -> dict[str, Any] | None:
    folder = conformance_dir()
    if folder is None or not (folder / name).is_file():
        return None
    return yaml.safe_load((folder / name).read_text(encoding="utf-8"))["tests"]


def conformance_cases(name: str, *sections: str) -> list[Any]:
    """pytest params, one per case of the sections of `name` (validate.yml, extract.yml),
    each with the section and description as its id."""
    tests = _load(name)
    if tests is None:
        return [pytest.param(None, id=f"{name}-missing")]
    params = []
    for section in sections:
        cases = tests[section]
        assert cases, f"{name} has no cases in {section}"
        for index, case in enumerate(cases):
            params.append(pytest.param(case, id=f"{section}-{index}-{case['description'][:60]}"))
    return params


def present(case: dict[str, Any] | None) -> dict[str, Any]:
    """The case, or a failure under CI (a skip elsewhere) when the files are missing."""
    if case is not None:
        return case
    where = os.environ.get(ENV) or " or ".join(str(p) for p in DEFAULTS)
    message = f"X's twitter-text conformance files are missing (looked in {where}; set {ENV})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)
