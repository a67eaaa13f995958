"""An import's upload, kept in the database in pieces until the import has finished.

In the database rather than on a disk, so that the worker that imports it may run on any
machine that shares the database; in pieces, so that neither the web process storing it
nor the worker reading it ever holds the whole file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from jamhost.transcripts.import_stream import CHUNK_BYTES
from jamhost.transcripts.models import ImportChunk


class UploadTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def pieces(chunks: Iterable[bytes], size: int = 0) -> Iterator[bytes]:
    """The bytes of `chunks` again, in pieces of `size` (CHUNK_BYTES unless given; the
    last may be shorter)."""
    size = size or CHUNK_BYTES
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


def upload_store(*, job_id: int, chunks: Iterable[bytes], limit: int) -> int:
    """Store the upload's pieces in order; return its size. Raises UploadTooLarge (with
    the size read so far) as soon as it passes `limit`: the caller's transaction then
    leaves nothing behind."""
    size = 0
    for index, piece in enumerate(pieces(chunks)):
        size += len(piece)
        if size > limit:
            raise UploadTooLarge(size)
        ImportChunk.objects.create(job_id=job_id, index=index, data=piece)
    return size


def upload_delete(*, job_id: int) -> None:
    ImportChunk.objects.filter(job_id=job_id).delete()


class UploadReader:
    """The stored upload as a binary stream, one piece read from the database at a time."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.index = 0
        self.pending = b""
        self.done = False

    def _next_piece(self) -> bytes:
        data = (
            ImportChunk.objects.filter(job_id=self.job_id, index=self.index)
            .values_list("data", flat=True)
            .first()
        )
        if data is None:
            self.done = True
            return b""
        self.index += 1
        return bytes(data)

    def read(self, size: int = -1, /) -> bytes:
        while not self.done and (size < 0 or len(self.pending) < size):
            self.pending += self._next_piece()
        if size < 0:
            out, self.pending = self.pending, b""
        else:
            out, self.pending = self.pending[:size], self.pending[size:]
        return out
