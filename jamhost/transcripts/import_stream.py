"""Reading an import file as a stream: text in chunks, lines, and X search JSON one post at
a time, with line numbers for every problem and nothing read twice.

The whole file is never in memory at once, and every step is linear in its size: the
X JSON reader decodes one element of `data` at a time (json's C scanner, from the point
it reached) and counts newlines only over text it has not counted yet.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any, Protocol

CHUNK_BYTES = 1 << 20


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class StreamProblem(Exception):
    """The stream cannot be read on; `line` is where (0: not tied to a line)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def codec_for(head: bytes, encoding: str = "") -> str:
    """The codec to read with: the one named, else what a BOM says, else UTF-8. Raises
    LookupError for a name Python does not know."""
    if encoding:
        return codecs.lookup(encoding).name
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


class TextChunks:
    """The file's text, decoded a chunk at a time. `bytes_read` says how far it got (for
    progress); a byte that does not decode raises StreamProblem with its line."""

    def __init__(self, source: Readable, *, encoding: str = "") -> None:
        self.source = source
        self.head = source.read(CHUNK_BYTES)
        self.codec = codec_for(self.head, encoding)
        self.bytes_read = 0
        self._newlines = 0  # in the bytes decoded so far, for the line of a bad byte

    def __iter__(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.codec)("strict")
        chunk = self.head
        while True:
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                # exc.start counts in the bytes given to this call, after any the
                # decoder kept from the last chunk (at most a few).
                kept = len(exc.object) - len(chunk)
                before = chunk[: max(0, exc.start - kept)]
                line = self._newlines + before.count(b"\n") + 1
                raise StreamProblem(
                    line,
                    f"this line is not {self.codec} text (byte 0x{exc.object[exc.start]:02x}). "
                    "Save the file as UTF-8 (in Excel: “CSV UTF-8”), or name its encoding.",
                ) from None
            self._newlines += chunk.count(b"\n")
            self.bytes_read += len(chunk)
            if text:
                yield text
            if final:
                return
            chunk = self.source.read(CHUNK_BYTES)


def lines(chunks: Iterator[str]) -> Iterator[str]:
    """Lines with their endings, as str.splitlines(keepends=True) gives them for the whole
    text, whatever the chunk boundaries (a \\r\\n split across two chunks stays one end)."""
    rest = ""
    for chunk in chunks:
        text = rest + chunk if rest else chunk
        parts = text.splitlines(keepends=True)
        # The last part may go on in the next chunk; so may a lone \r (a \r\n cut in two).
        rest = parts.pop() if parts and not parts[-1].endswith("\n") else ""
        yield from parts
    if rest:
        yield rest


class JsonReader:
    """A JSON document read front to back: `value()` decodes the next complete value,
    `skip_ws`, `peek` and `expect` walk the punctuation between values. Keeps only the
    part of the text not yet read (plus one value being decoded)."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = iter(chunks)
        self._decoder = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self._line = 1  # line at _counted
        self._counted = 0

    def _more(self, at_least: int = 1) -> bool:
        """Read chunks until at least `at_least` more characters are buffered (or the end)."""
        if self.pos > CHUNK_BYTES:
            self.line_at(self.pos)
            self.buf = self.buf[self.pos :]
            self._counted -= self.pos
            self.pos = 0
        target = len(self.buf) + at_least
        pieces = [self.buf]
        size = len(self.buf)
        while size < target and not self.eof:
            piece = next(self._chunks, None)
            if piece is None:
                self.eof = True
                break
            pieces.append(piece)
            size += len(piece)
        self.buf = "".join(pieces)
        return size > len(pieces[0])

    def line_at(self, pos: int) -> int:
        """The line of buffer position `pos`; positions asked for must not go backwards."""
        if pos > self._counted:
            self._line += self.buf.count("\n", self._counted, pos)
            self._counted = pos
        return self._line

    def skip_ws(self) -> None:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n\ufeff":
                self.pos += 1
            if self.pos < len(self.buf) or not self._more():
                return

    def peek(self) -> str:
        self.skip_ws()
        return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def expect(self, chars: str, what: str) -> str:
        found = self.peek()
        if not found or found not in chars:
            shown = f"“{found}”" if found else "the end of the file"
            raise StreamProblem(self.line_at(self.pos), f"expected {what}, found {shown}.")
        self.pos += 1
        return found

    def value(self) -> tuple[Any, int, int]:
        """The next value, and where its text starts and ends in `buf` (valid until the
        next read). Re-reads a value cut by a chunk boundary with at least twice the text,
        so a value is decoded at most a few times."""
        self.skip_ws()
        while True:
            try:
                value, end = self._decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._more(max(CHUNK_BYTES, len(self.buf) - self.pos)):
                    continue
                line = self.line_at(exc.pos)
                column = exc.pos - self.buf.rfind("\n", 0, exc.pos)
                raise StreamProblem(
                    line, f"this is not valid JSON ({exc.msg}, column {column})."
                ) from None
            if end == len(self.buf) and self._more():
                continue  # a number or literal may go on in the next chunk
            start, self.pos = self.pos, end
            return value, start, end

    def members(self, what: str) -> Iterator[str]:
        """The keys of the object starting here; the caller reads each value."""
        self.expect("{", what)
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            self.skip_ws()
            if self.peek() != '"':
                raise StreamProblem(self.line_at(self.pos), f"expected a key in {what}.")
            key, _, _ = self.value()
            self.expect(":", "“:” after a key")
            yield key
            if self.expect(",}", "“,” or “}”") == "}":
                return

    def elements(self, what: str) -> Iterator[None]:
        """One step per element of the array starting here; the caller reads each one."""
        self.expect("[", what)
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield None
            if self.expect(",]", "“,” or “]”") == "]":
                return

    def end(self) -> None:
        if self.peek():
            raise StreamProblem(self.line_at(self.pos), "there is more after the JSON document.")
