"""A local HTTPS server of video files, as an object store serves presigned URLs: a test CA
(trustme) signs its certificate for `localhost`, GET honours `Range: bytes=a-` / `a-b` (206)
unless told not to, and a file can be made to answer 403 (an expired URL), to drop the
connection once after some bytes (to test resuming) or to trickle: its first bytes at once (a
valid head), then a few bytes at a time with a pause between, until the client goes away or
the server stops."""

from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@dataclass(frozen=True)
class Trickle:
    """`head` bytes at once, then `step` bytes every `every_s` seconds."""

    head: int = 64
    step: int = 1
    every_s: float = 0.05


@dataclass
class VideoServer:
    root: Path
    port: int
    ca_bundle: Path
    ranges: bool = True  # honour Range requests
    expired: set[str] = field(default_factory=set)  # names answered 403
    drop_once: dict[str, int] = field(default_factory=dict)  # name -> bytes sent before one drop
    trickle: dict[str, Trickle] = field(default_factory=dict)  # name -> how it is sent slowly
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    closing: threading.Event = field(default_factory=threading.Event)  # set when the server stops

    def url(self, name: str, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}/{name}?X-Amz-Signature=abc123&X-Amz-Expires=900"


def _handler(server: VideoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def do_GET(self) -> None:  # the name http.server calls
            name = self.path.split("?", 1)[0].lstrip("/")
            asked = self.headers.get("Range")
            server.requests.append((name, asked))
            path = server.root / name
            if name in server.expired:
                self._answer(403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
                return
            if not name or "/" in name or not path.is_file():
                self._answer(404, b"no such object")
                return
            data = path.read_bytes()
            start, end = 0, len(data) - 1
            match = _RANGE.fullmatch(asked or "") if server.ranges else None
            self.send_response(206 if match else 200)
            if match:
                start = int(match.group(1))
                end = min(int(match.group(2)), end) if match.group(2) else end
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes" if server.ranges else "none")
            self.end_headers()
            body = data[start : end + 1]
            slow = server.trickle.get(name)
            if slow is not None:
                self._trickle(body, slow)
                return
            cut = server.drop_once.pop(name, None)
            if cut is not None:  # announce everything, send a part, hang up
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def _trickle(self, body: bytes, slow: Trickle) -> None:
            self.close_connection = True
            try:
                self.wfile.write(body[: slow.head])
                self.wfile.flush()
                sent = slow.head
                next_at = time.monotonic()
                while sent < len(body):
                    next_at += slow.every_s
                    if server.closing.wait(max(0.0, next_at - time.monotonic())):
                        return
                    self.wfile.write(body[sent : sent + slow.step])
                    self.wfile.flush()
                    sent += slow.step
            except OSError:  # the client gave up: what the tests expect
                return

        def _answer(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def make_test_ca(folder: Path) -> tuple[trustme.CA, Path]:
    """A fresh test CA and its PEM file in `folder` (what VA_CA_BUNDLE names)."""
    ca = trustme.CA()
    ca_bundle = folder / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_bundle))
    return ca, ca_bundle


@contextmanager
def https_video_server(root: Path, ca_dir: Path, ca: tuple[trustme.CA, Path] | None = None) -> Iterator[VideoServer]:
    """Serve `root` over TLS on 127.0.0.1 (a free port), with a certificate for localhost
    signed by `ca` (a new one in `ca_dir` if None); the CA's PEM is `server.ca_bundle`."""
    authority, ca_bundle = ca or make_test_ca(ca_dir)
    cert = authority.issue_cert("localhost", "127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    state = VideoServer(root=root, port=0, ca_bundle=ca_bundle)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.closing.set()  # trickling answers end: a client still reading them sees the connection close
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


#: A 1 MiB file whose every offset is recognisable (the byte at offset n is n % 256).
BLOB = bytes(range(256)) * 4096


@contextmanager
def blob_server(folder: Path) -> Iterator[VideoServer]:
    """An HTTPS video server whose one file, `blob.mp4`, is `BLOB`; its CA in `folder`."""
    (folder / "www").mkdir()
    (folder / "www" / "blob.mp4").write_bytes(BLOB)
    with https_video_server(folder / "www", folder) as srv:
        yield srv
