"""A multipart/form-data body streamed from disk in chunks, with a progress callback.

httpx would read a file object lazily too, but it gives no hook for progress; building the
body here keeps the file out of memory, sets an exact Content-Length (so the server's size
cap applies before it reads anything) and reports every chunk sent.
"""

from __future__ import annotations

import mimetypes
import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

CHUNK_SIZE = 256 * 1024


def _quote(value: str) -> str:
    """Escape a header parameter the way browsers do (quotes, CR, LF)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MultipartUpload:
    """One file field plus plain form fields, as a re-iterable body of known length."""

    def __init__(
        self,
        path: Path,
        field: str,
        fields: Mapping[str, str],
        on_chunk: Callable[[int], None] | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self.path = path
        self.file_size = os.stat(path).st_size
        self.boundary = secrets.token_hex(16)
        self.on_chunk = on_chunk
        self.chunk_size = chunk_size
        self._head = self._fields_part(fields) + self._file_header(field)
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()

    def _fields_part(self, fields: Mapping[str, str]) -> bytes:
        parts = [
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        ]
        return "".join(parts).encode()

    def _file_header(self, field: str) -> bytes:
        content_type = mimetypes.guess_type(self.path.name)[0] or "application/octet-stream"
        return (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quote(field)}"; filename="{_quote(self.path.name)}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()

    @property
    def content_length(self) -> int:
        return len(self._head) + self.file_size + len(self._tail)

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": f"multipart/form-data; boundary={self.boundary}",
            "Content-Length": str(self.content_length),
        }

    def __iter__(self) -> Iterator[bytes]:
        """Yield the body; the file is read `chunk_size` bytes at a time."""
        yield self._head
        sent = 0
        with open(self.path, "rb") as fh:
            while chunk := fh.read(self.chunk_size):
                sent += len(chunk)
                yield chunk
                if self.on_chunk:
                    self.on_chunk(len(chunk))
        if sent != self.file_size:
            raise OSError(f"{self.path} changed size while uploading")
        yield self._tail
