"""CSV cells that a spreadsheet shows as text, never runs as a formula.

Excel, LibreOffice and Google Sheets treat a cell starting with =, +, -, @ (and, after
trimming, a tab or carriage return) as a formula: "=HYPERLINK(…)" in a post or a name
would run on the reader's machine. Such a cell is written with a leading apostrophe,
which spreadsheets show as text. The apostrophe is also added before one that already
starts such a cell (so "'=x" stays "'=x"), which makes `cell_read` an exact inverse:
export -> import -> export gives the same file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

_TRIGGER = re.compile(r"^'*[=+\-@\t\r]")


def cell_safe(value: Any) -> str:
    """The value as a CSV cell a spreadsheet will not evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if _TRIGGER.match(text) else text


def cell_read(text: str) -> str:
    """The value a cell written by `cell_safe` holds (the apostrophe taken off)."""
    return text[1:] if _TRIGGER.match(text) and text.startswith("'") else text


class SafeWriter:
    """csv.writer whose every cell goes through cell_safe."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([cell_safe(cell) for cell in row])
