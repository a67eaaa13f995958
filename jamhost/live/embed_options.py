"""The options of a jam's embed, read from the frame's address (`?theme=dark&show=answers`):
what the host picked when copying the snippet. Each is checked, and a wrong one is told
in words inside the frame, where whoever pasted the snippet sees it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import urlencode

from django.core.exceptions import ValidationError

from jamhost.posts.models import Kind, Post

THEMES = {"auto": "The reader's own setting", "light": "Light", "dark": "Dark"}
SHOWS = {
    "all": "Everything",
    "questions": "The jam's questions only",
    "answers": "Answers to the questions only",
}
ORDERS = {"oldest": "Oldest first", "newest": "Newest first"}
MIN_HEIGHT, MAX_HEIGHT, DEFAULT_HEIGHT = 200, 2000, 600


@dataclass(frozen=True)
class EmbedOptions:
    theme: str = "auto"
    height: int = DEFAULT_HEIGHT
    show: str = "all"
    order: str = "oldest"

    def query(self) -> str:
        """The options that differ from the defaults, as a query string ("" for none)."""
        default = EmbedOptions()
        changed = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }
        return f"?{urlencode(changed)}" if changed else ""

    def shows(self, post: Post) -> bool:
        """Whether the embed shows this post. static/css/embed.css holds the same rule for
        posts that arrive live ([data-embed-show])."""
        if self.show == "questions":
            return post.kind == Kind.QUESTION
        if self.show == "answers":
            return post.kind == Kind.POST and post.question_id is not None
        return True


def _choice(params: Mapping[str, str], name: str, allowed: dict[str, str]) -> str:
    value = params.get(name, "")
    if value == "":
        return getattr(EmbedOptions, name)
    if value not in allowed:
        names = ", ".join(allowed)
        raise ValidationError({name: f"{name} must be one of {names}; “{value[:40]}” is not."})
    return value


def _height(params: Mapping[str, str]) -> int:
    raw = params.get("height", "")
    if raw == "":
        return DEFAULT_HEIGHT
    message = (
        f"height is the frame's height in pixels, a whole number from {MIN_HEIGHT} to "
        f"{MAX_HEIGHT}; “{raw[:40]}” is not."
    )
    if not raw.isascii() or not raw.isdigit() or len(raw) > 5:
        raise ValidationError({"height": message})
    height = int(raw)
    if not MIN_HEIGHT <= height <= MAX_HEIGHT:
        raise ValidationError({"height": message})
    return height


def embed_options_parse(params: Mapping[str, str]) -> EmbedOptions:
    """The options in `params` (a request's GET); parameters it does not know are left
    alone (a site may add its own). ValidationError names every wrong option."""
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    readers = {
        "theme": lambda: _choice(params, "theme", THEMES),
        "height": lambda: _height(params),
        "show": lambda: _choice(params, "show", SHOWS),
        "order": lambda: _choice(params, "order", ORDERS),
    }
    for name, read in readers.items():
        try:
            values[name] = read()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return EmbedOptions(**values)  # type: ignore[arg-type]
