"""What the installed package ships: jamhost, and not the test servers."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_jamhost_without_the_test_servers() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    find = config["tool"]["setuptools"]["packages"]["find"]
    shipped = set(find_packages(where=str(ROOT), include=find["include"]))
    assert {"jamhost", "jamhost.networks", "jamhost.networks.x"} <= shipped
    assert not {p for p in shipped if p.split(".")[0] in ("testservers", "tests", "bench")}
    assert (ROOT / "testservers" / "x" / "__main__.py").exists()
