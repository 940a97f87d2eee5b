"""Streaming multipart reader: the video goes to storage chunk by chunk as the body arrives.

Starlette's `request.form()` spools the whole body before the handler runs, so the size cap
could only be checked afterwards. Here python-multipart's push parser is fed from
`request.stream()`; file bytes are re-chunked to `chunk_bytes` and written by
`videoanalysis.storage.save_stream`, which cuts the upload off (413) as soon as the cap is passed.

Everything else a client sends is bounded as it arrives, so a hostile body costs neither memory
nor time: a part named outside the form's fields is refused at its headers (422 naming it: a
misspelt `score_treshold` would otherwise run with the default unnoticed), and a part's headers
are capped at `MAX_PART_HEADERS` lines and `MAX_PART_HEADER_BYTES` bytes in all (413), whatever
the installed python-multipart bounds itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from api.forms import unknown_field
from videoanalysis.storage import UploadTooLarge, save_stream

FORM_OVERHEAD = 64 * 1024  # room for the text fields and part headers besides the file
MAX_FIELD_BYTES = 8 * 1024
MAX_PART_HEADERS = 8  # Content-Disposition and Content-Type are all a form needs
MAX_PART_HEADER_BYTES = 8 * 1024  # one part's header lines together; a long file name fits
PART_HEADERS_TOO_LARGE = (
    f"a multipart part's headers exceed the limit of {MAX_PART_HEADERS} lines and {MAX_PART_HEADER_BYTES} bytes in all"
)


class UploadError(Exception):
    """A malformed upload; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


@dataclass
class Upload:
    """What was read: the text fields, and the stored file (None when the body had none)."""

    fields: dict[str, str]
    path: Path | None
    filename: str
    size: int


class _Reader:
    """Collects parser events; file bytes of the first file part go to `pending`; a part named
    neither in `file_fields` nor in `text_fields` is refused."""

    def __init__(self, file_fields: tuple[str, ...], text_fields: tuple[str, ...], max_parts: int) -> None:
        self.file_fields = file_fields
        self.known = (*file_fields, *text_fields)
        self.max_parts = max_parts
        self.parts = 0
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.pending = bytearray()
        self._part = _Part()
        self._in_file = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._header_lines = 0
        self._header_bytes = 0

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._begin,
            "on_part_data": self._data,
            "on_part_end": self._end,
            "on_header_field": lambda d, s, e: self._header_field.extend(self._counted(d[s:e])),
            "on_header_value": lambda d, s, e: self._header_value.extend(self._counted(d[s:e])),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
        }

    def _begin(self) -> None:
        self.parts += 1
        if self.parts > self.max_parts:
            raise UploadError(413, f"the form has more than {self.max_parts} fields (VA_MAX_FORM_FIELDS)")
        self._part, self._headers = _Part(), {}
        self._header_lines = self._header_bytes = 0

    def _counted(self, data: bytes) -> bytes:
        self._header_bytes += len(data)
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise UploadError(413, PART_HEADERS_TOO_LARGE)
        return data

    def _header_end(self) -> None:
        self._header_lines += 1
        if self._header_lines > MAX_PART_HEADERS:
            raise UploadError(413, PART_HEADERS_TOO_LARGE)
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_done(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition", b""))
        if disposition != b"form-data" or b"name" not in options:
            raise UploadError(400, "malformed multipart body: a part has no form-data name")
        self._part.name = options[b"name"].decode("utf-8", "replace")
        if self._part.name not in self.known:
            known = ", ".join(self.known)
            raise UploadError(422, f"{unknown_field(self._part.name, self.known)}; the upload takes {known}")
        if b"filename" in options:
            self._part.filename = options[b"filename"].decode("utf-8", "replace")
        self._in_file = self._part.name in self.file_fields and self.filename is None
        if self._in_file:
            self.filename = self._part.filename or ""

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.pending.extend(data[start:end])
        elif self._part.filename is None:
            self._part.data.extend(data[start:end])
            if len(self._part.data) > MAX_FIELD_BYTES:
                raise UploadError(413, f"form field {self._part.name!r} is too long")
        # extra file parts (not a video field) are skipped

    def _end(self) -> None:
        if not self._in_file and self._part.filename is None:
            self.fields[self._part.name] = self._part.data.decode("utf-8", "replace")
        self._in_file = False


def _parser(boundary: bytes, reader: _Reader) -> MultipartParser:
    """python-multipart's push parser; versions that bound header lines themselves are given
    the reader's numbers, so whichever meets a long line first answers the same 413."""
    callbacks = reader.callbacks()
    try:
        return MultipartParser(
            boundary,
            callbacks,  # type: ignore[arg-type]  # a plain dict of the callbacks the TypedDict names
            max_header_count=MAX_PART_HEADERS,
            max_header_size=MAX_PART_HEADER_BYTES,
        )
    except TypeError:  # an older python-multipart: the reader's count is the only bound
        return MultipartParser(boundary, callbacks)  # type: ignore[arg-type]


def multipart_boundary(request: Request) -> bytes:
    ctype, options = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or not options.get(b"boundary"):
        raise UploadError(415, "expected a multipart/form-data body with a `videofile` field")
    return options[b"boundary"]


def check_content_length(request: Request, max_bytes: int) -> None:
    """Refuse early when the client announces a body that cannot fit."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes + FORM_OVERHEAD:
        raise UploadTooLarge(max_bytes)


async def receive_upload(
    request: Request,
    dest: Path,
    *,
    max_bytes: int,
    chunk_bytes: int,
    text_fields: tuple[str, ...],
    max_fields: int = 50,
    file_fields: tuple[str, ...] = ("videofile", "file"),
) -> Upload:
    """Parse the multipart body while it arrives, writing the video part to `dest`.

    Raises UploadTooLarge (the partial file is removed) or UploadError: 413 at the part past
    `max_fields` or at headers past their limit, 422 at a part named in neither `file_fields`
    nor `text_fields`, each before the rest is read; on success with no file part, nothing is
    left on disk and `Upload.path` is None."""
    check_content_length(request, max_bytes)
    reader = _Reader(file_fields, text_fields, max_fields)
    parser = _parser(multipart_boundary(request), reader)

    async def file_chunks() -> AsyncIterator[bytes]:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > max_bytes + FORM_OVERHEAD:
                raise UploadTooLarge(max_bytes)
            parser.write(chunk)
            while len(reader.pending) >= chunk_bytes:
                yield bytes(reader.pending[:chunk_bytes])
                del reader.pending[:chunk_bytes]
        parser.finalize()
        if reader.pending:
            yield bytes(reader.pending)
            reader.pending.clear()

    try:
        size = await save_stream(file_chunks(), dest, max_bytes)
    except ValueError as exc:  # python-multipart's MultipartParseError is a ValueError
        if str(exc).startswith("Maximum header"):  # its own bound (the same numbers), met first
            raise UploadError(413, PART_HEADERS_TOO_LARGE) from None
        raise UploadError(400, f"malformed multipart body: {exc}") from None
    if reader.filename is None:
        dest.unlink(missing_ok=True)
        return Upload(reader.fields, None, "", 0)
    return Upload(reader.fields, dest, reader.filename, size)
