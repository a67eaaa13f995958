"""Exports, each a pure function of the snapshot: the same snapshot gives the same bytes.

JSON is the snapshot itself (schema/transcript-v1.json). CSV has one row per post in the
columns the importer reads back; a reply names the seq of the post it answers in
`reply_to`. A jam's polls follow the posts, one row each with source "poll" (the
importer skips them), their results in the text; Markdown and HTML end with a Polls
section. Markdown and the standalone HTML file follow the transcript's sections: each
question, then featured and panelist answers, then the community, with each answer's
replies marked as such and placed under it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe

from jamhost.jams.models import duration_label, run_window
from jamhost.posts.models import GUEST_AUTHOR_PREFIX
from jamhost.posts.weblinks import web_url
from jamhost.spreadsheets import SafeWriter
from jamhost.transcripts.selectors import transcript_counts
from jamhost.transcripts.snapshot import (
    URL_RE,
    URL_TRAILING,
    Section,
    Snapshot,
    is_reply,
    parse_iso,
    snapshot_sections,
    threadable,
)

CSV_COLUMNS = (
    "seq",
    "time_utc",
    "question",
    "author_handle",
    "author_name",
    "role",
    "text",
    "source",
    "link",
    "pinned",
    "featured",
    "reply_to",
)
# Written after the importer's columns (which it reads back), and skipped by it: the
# networks the post is on (where it came from, or where a jamhost post was published)
# and its address on each ("none" when unknown), space-separated in the same order.
CSV_NETWORK_COLUMNS = ("network", "url")
EXPORT_CSV_COLUMNS = CSV_COLUMNS + CSV_NETWORK_COLUMNS
NETWORK_LABELS = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}
CSV_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Excel reads a CSV without a byte order mark in the machine's legacy code page, which
# garbles every accent and emoji; with it, UTF-8. The importer skips it.
CSV_BOM = "\ufeff"


@dataclass(frozen=True)
class ExportFormat:
    extension: str
    content_type: str


FORMATS = {
    "json": ExportFormat("json", "application/json; charset=utf-8"),
    "csv": ExportFormat("csv", "text/csv; charset=utf-8"),
    "md": ExportFormat("md", "text/markdown; charset=utf-8"),
    "html": ExportFormat("html", "text/html; charset=utf-8"),
}


def export_filename(snapshot: Snapshot, fmt: str) -> str:
    jam = snapshot["jam"]
    day = jam["starts_at"][:10]
    return f"{jam['slug']}-{day}-transcript.{FORMATS[fmt].extension}"


def jam_ran(jam: dict[str, Any]) -> tuple[datetime, str]:
    """When the archived jam started and how long it really ran ("42 minutes")."""
    start, end = run_window(
        parse_iso(jam["starts_at"]),
        jam["duration_minutes"],
        parse_iso(jam["went_live_at"]) if jam["went_live_at"] else None,
        parse_iso(jam["ended_at"]) if jam["ended_at"] else None,
    )
    return start, duration_label(start, end)


def export_csv(snapshot: Snapshot) -> str:
    """UTF-8 with a byte order mark, CRLF line ends: opens cleanly in Excel."""
    out = io.StringIO()
    out.write(CSV_BOM)
    writer = SafeWriter(out, lineterminator="\r\n")  # no cell runs as a formula
    writer.writerow(EXPORT_CSV_COLUMNS)
    shown = threadable(snapshot)
    for post in snapshot["posts"]:
        writer.writerow(
            [
                post["seq"],
                parse_iso(post["time"]).strftime(CSV_TIME_FORMAT),
                f"Q{post['question']}" if post["question"] is not None else "",
                post["author"]["handle"],
                post["author"]["name"],
                post["author"]["role"],
                post["text"],
                post["source"],
                post["link"],
                "true" if post["pinned"] else "false",
                "true" if post["featured"] else "false",
                post["reply_to"] if is_reply(post, shown) else "",
                " ".join(network for network, _ in post_networks(post)),
                " ".join(url or "none" for _, url in post_networks(post)),
            ]
        )
    for poll in snapshot.get("polls", []):
        writer.writerow(
            [
                "",
                parse_iso(poll["opened_at"]).strftime(CSV_TIME_FORMAT),
                "",
                snapshot["jam"]["host"]["handle"],
                snapshot["jam"]["host"]["name"],
                "host",
                poll_summary(poll),
                "poll",
                "",
                "false",
                "false",
                "",
                "",
                "",
            ]
        )
    return out.getvalue()


def post_networks(post: dict[str, Any]) -> list[tuple[str, str]]:
    """(network, address) for each network the post is on: the one it came from, or for
    a jamhost post X (when published there) and each network it was published to."""
    link = web_url(post.get("link") or "")
    if post["source"] in NETWORK_LABELS:
        return [(post["source"], link)]
    if post["source"] != "app":
        return []
    found = [("x", link)] if link else []
    for key, entry in sorted((post.get("elsewhere") or {}).items()):
        network = key.split(":", 1)[0]
        if network in NETWORK_LABELS and entry.get("status") == "published":
            found.append((network, web_url(entry.get("url") or "")))
    return found


def network_label(network: str) -> str:
    return NETWORK_LABELS.get(network, network)


def _results(options: list[dict[str, Any]]) -> str:
    return "; ".join(f"{o['label']}: {o['votes']} ({o['share']}%)" for o in _shares(options))


def poll_summary(poll: dict[str, Any]) -> str:
    """A poll and its results in one line of text: the room's, then X's when read."""
    text = f"Poll: {poll['text']} — in the room, {poll['votes']} votes: {_results(poll['options'])}"
    if "x" in poll:
        reads = poll["x"]["posts_read"]
        text += f" — on X ({reads} post read): {_results(poll['x']['options'])}"
    return text


# Everything Markdown (CommonMark, GitHub's too) would read as markup: emphasis, code,
# links and images ([ and ]), autolinks and raw HTML (<, >), entities (&), strikethrough.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&~|])")
# At a line's start: headings, quotes, list items, thematic breaks and setext underlines.
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])", re.MULTILINE)


def _md_escape(text: str) -> str:
    """The text as Markdown that shows it as written: no HTML, link, image or emphasis
    in it is read as markup. Later lines are indented to stay in the post's list item."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return "\n  ".join(line for line in text.splitlines()) or text


def _md_link(url: str) -> str:
    """A link target that cannot break out of (…): only http(s), with (, ), <, > and
    spaces percent-encoded; "" for anything else."""
    if not web_url(url):
        return ""
    return "".join(f"%{ord(c):02X}" if c in "()<> \\" or ord(c) < 0x20 else c for c in url)


def _md_post(post: dict) -> str:
    author = post["author"]
    # A guest has no handle anywhere: "(guest" takes the handle's place.
    handle = "guest" if _is_guest(author) else f"@{author['handle']}"
    who = f"**{_md_escape(author['name'] or author['handle'])}** ({handle}"
    if author["role"] != "participant":
        who += f", {author['role']}"
    who += ")"
    marks = "".join(
        f" _{mark}_"
        for mark, on in (("featured", post["featured"]), ("pinned", post["pinned"]))
        if on
    )
    time = parse_iso(post["time"]).strftime("%H:%M")
    line = f"- {who} {time} UTC{marks}: {_md_escape(post['text'])}"
    for network, url in post_networks(post):
        label = network_label(network)
        target = _md_link(url)
        line += f" ([{label}]({target}))" if target else f" ({label})"
    if post["source"] == "import" and _md_link(post["link"] or ""):
        line += f" ([link]({_md_link(post['link'])}))"
    author_url = _md_link(author.get("url") or "")
    if author_url:
        line += f" ([profile]({author_url}))"
    return line


def _is_guest(author: dict[str, Any]) -> bool:
    return str(author.get("key", "")).startswith(GUEST_AUTHOR_PREFIX)


def _handles(snapshot: Snapshot) -> dict[int, str]:
    return {p["seq"]: p["author"]["handle"] for p in snapshot["posts"]}


def _md_with_replies(
    section: Section, posts: list[dict[str, Any]], handles: dict[int, str]
) -> list[str]:
    """Each answer, then its replies as items nested under it, each saying whom it answers."""
    lines = []
    for post in posts:
        lines.append(_md_post(post))
        for reply in section.thread(post):
            to = handles[reply["reply_to"]]
            marked = _md_post(reply).replace("- ", f"- ↪ reply to @{to}: ", 1)
            lines.append("  " + marked.replace("\n", "\n  "))
    return lines


def export_markdown(snapshot: Snapshot) -> str:
    jam = snapshot["jam"]
    start, ran = jam_ran(jam)
    counts = transcript_counts(snapshot)
    lines = [
        f"# {_md_escape(jam['title'])} (#{jam['hashtag']})",
        "",
        f"Hosted by @{jam['host']['handle']} on {start:%Y-%m-%d} "
        f"at {start:%H:%M} UTC, ran {ran}. "
        f"{counts.posts} posts by {counts.people} people.",
    ]
    if jam["panelists"]:
        names = ", ".join(f"@{p['handle']}" for p in jam["panelists"])
        lines += ["", f"Panelists: {names}"]
    handles = _handles(snapshot)
    for section in snapshot_sections(snapshot):
        lines.append("")
        if section.question:
            lines.append(
                f"## Q{section.question['number']}: {_md_escape(section.question['text'])}"
            )
        else:
            lines.append("## Other posts")
        if section.lead:
            lines += ["", "### Panelists and featured answers", ""]
            lines += _md_with_replies(section, section.lead, handles)
        if section.community:
            lines += ["", "### Community", ""]
            lines += _md_with_replies(section, section.community, handles)
        if not section.answers:
            lines += ["", "_No answers._"]
    if snapshot.get("polls"):
        lines += ["", "## Polls", ""]
        lines += [f"- {_md_escape(poll_summary(poll))}" for poll in snapshot["polls"]]
    lines.append("")
    return "\n".join(lines)


def _linked(text: str) -> str:
    """The text, escaped, with its web addresses as links (a fast, plain urlize)."""
    out: list[str] = []
    at = 0
    for match in URL_RE.finditer(text):
        url = match.group(0).rstrip(URL_TRAILING)
        out.append(escape(text[at : match.start()]))
        out.append(f'<a href="{escape(url)}" rel="nofollow">{escape(url)}</a>')
        at = match.start() + len(url)
    out.append(escape(text[at:]))
    return "".join(out)


def _html_with_replies(
    section: Section, posts: list[dict[str, Any]], kind: str, handles: dict[int, str]
) -> list[str]:
    """Each answer, then its replies in a block under it, each saying whom it answers."""
    parts = []
    for post in posts:
        parts.append(_html_post(post, kind))
        thread = section.thread(post)
        if thread:
            who = escape(handles[post["seq"]])
            parts.append(f'<div class="replies" role="group" aria-label="Replies to @{who}">\n')
            parts += [_html_post(r, "reply", to=handles[r["reply_to"]]) for r in thread]
            parts.append("</div>\n")
    return parts


def _html_post(post: dict[str, Any], kind: str, *, to: str = "") -> str:
    author = post["author"]
    badges = "".join(
        f' <span class="badge">{label}</span>'
        for label, on in (
            (escape(author["role"].capitalize()), author["role"] != "participant"),
            ("Featured", post["featured"]),
            ("Pinned", post["pinned"]),
        )
        if on
    )
    clock = parse_iso(post["time"]).strftime("%H:%M")
    link = web_url(post["link"] or "")
    when = f'<a href="{escape(link)}">{clock}</a>' if link else clock
    badges += "".join(
        f' <a class="badge net net-{network}" href="{escape(url)}">{network_label(network)}</a>'
        if url
        else f' <span class="badge net net-{network}">{network_label(network)}</span>'
        for network, url in post_networks(post)
    )
    replying = f'<span class="reply-to">↪ reply to @{escape(to)}</span> ' if to else ""
    return (
        f'<article class="post {kind}" id="post-{post["seq"]}" data-seq="{post["seq"]}">'
        f'<header>{replying}<span class="name">{escape(author["name"] or author["handle"])}</span> '
        + ('<span class="badge guest">guest</span>' if _is_guest(author) else _html_handle(author))
        + f"{badges}"
        f'<time datetime="{escape(post["time"])}">{when}</time></header>'
        f'<p class="text">{_linked(post["text"])}</p></article>\n'
    )


def _html_handle(author: dict[str, Any]) -> str:
    handle = f'<span class="handle">@{escape(author["handle"])}</span>'
    profile = web_url(author.get("url") or "")
    return f'<a class="profile" href="{escape(profile)}">{handle}</a>' if profile else handle


def export_html(snapshot: Snapshot) -> str:
    """One self-contained file: inline CSS, no scripts, images or fonts, so it reads the
    same offline and asks no other host for anything. Posts are written here rather than
    by a template: a 10,000-post file renders in a fraction of the time."""
    sections = []
    handles = _handles(snapshot)
    for section in snapshot_sections(snapshot):
        parts = []
        if section.question_post:
            parts.append(_html_post(section.question_post, "question"))
        if section.lead:
            parts.append("<h3>Panelists and featured answers</h3>\n")
            parts += _html_with_replies(section, section.lead, "lead", handles)
        if section.community:
            parts.append("<h3>Community</h3>\n")
            parts += _html_with_replies(section, section.community, "community", handles)
        sections.append((section, mark_safe("".join(parts))))  # every part escaped above
    polls = [
        {
            **poll,
            "results": _shares(poll["options"]),
            "x_results": _shares(poll.get("x", {}).get("options", [])),
        }
        for poll in snapshot.get("polls", [])
    ]
    start, ran = jam_ran(snapshot["jam"])
    return render_to_string(
        "transcripts/export.html",
        {
            "snapshot": snapshot,
            "jam": snapshot["jam"],
            "sections": sections,
            "started": start,
            "ran": ran,
            "counts": transcript_counts(snapshot),
            "polls": polls,
        },
    )


def _shares(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    total = sum(option["votes"] for option in options)
    return [
        {**option, "share": round(100 * option["votes"] / total) if total else 0}
        for option in options
    ]


def export_render(snapshot: Snapshot, *, fmt: str, content: str) -> str:
    """The export in `fmt`; `content` is the stored canonical JSON, served as it is."""
    if fmt == "json":
        return content
    if fmt == "csv":
        return export_csv(snapshot)
    if fmt == "md":
        return export_markdown(snapshot)
    if fmt == "html":
        return export_html(snapshot)
    raise ValueError(f"unknown export format {fmt!r}")
