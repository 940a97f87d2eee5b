"""Fetching videos by URL (`https://`, a presigned S3/GCS/Azure URL is one; `http://` when allowed).

Checked by the SSRF guard of `videoanalysis.netguard` at every use: the host is resolved once,
the answer checked (special-purpose addresses refused unless the allow-list names the host or
its network) and the request sent to that very address, the name kept for Host, SNI and the
certificate. Redirects are not followed. Fetched with httpx only: the URL is never handed to
OpenCV or FFmpeg, which would resolve it again and follow redirects.

Certificates are verified against the operating system's store (truststore: a company CA
installed there is trusted, as by every other program on the machine), not certifi's copy of
Mozilla's list that httpx uses by default; `ca_bundle` replaces the store with that file alone.

`read_head` reads the first bytes (a Range request) so the API can sniff the container at
upload; `download` streams the video to a file in chunks, capped, and after a dropped
connection resumes with a Range request where the server honours it (206), else starts over.

Both end, whatever the server does: an overall deadline (`deadline_s`, every attempt and
connection included; `read_head` is given its own) and a minimum rate (`min_rate` bytes per
second over the last `rate_window_s`, once a window has passed since the attempt began) are
watched beside the transfer (videoanalysis.pacing). The deadline is final (`the download did
not finish within 1800 s`); a connection below the minimum rate is cut, the head refused with
that reason (`the server sent 12 bytes in 10 s, below the minimum of 64 KiB/s`) and the
download resumed like a dropped one (a stalled connection is what resuming is for) until its
attempts are spent (`the video URL kept failing after 4 attempts: the server sent ...`).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import truststore

from videoanalysis.netguard import AllowList, Target, UnsafeURL, checked_address, parse_url, refusal
from videoanalysis.pacing import DOWNLOAD_DEADLINE, Pace, Watchdog

#: Longest URL a task can hold (`Task.video_uri`).
MAX_VIDEO_URL = 1024
#: Bytes per second beyond what one HTTPS connection read by this client sustains (about 8.6
#: Gbit/s): a minimum rate above it, or a deadline that asks it of the largest video, is refused.
FASTEST_RATE = 1024**3
#: Answers that mean the URL itself is no longer good (an expired presigned URL is a 403).
GONE = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 410: "Gone"}

__all__ = ["RemoteVideoError", "UnsafeURL", "VideoUrlPolicy", "check_video_url", "download", "is_url", "read_head"]


class RemoteVideoError(Exception):
    """The video URL cannot be read; the message is the task's reason. `private` is true when the
    server is at a special-purpose address (let in by the allow-list): its answer (a status, a
    refused port) then tells about the inside of the network, not only about the video."""

    private: bool = False


@dataclass(frozen=True)
class VideoUrlPolicy:
    allow_http: bool = False
    allowed: AllowList = field(default_factory=AllowList)
    ca_bundle: Path | None = None  # PEM file of the CAs to trust instead of the operating system's store
    max_bytes: int = 4 * 1024**3
    timeout_s: float = 30.0  # per connection attempt and per read (within the deadline)
    deadline_s: float = 1800.0  # the whole download, every attempt included
    min_rate: float = 64 * 1024  # bytes per second over the last rate window, after the first
    rate_window_s: float = 10.0

    def pace(self, deadline_s: float | None = None, deadline_text: str = DOWNLOAD_DEADLINE) -> Pace:
        deadline = self.deadline_s if deadline_s is None else deadline_s
        return Pace(deadline, self.min_rate, self.rate_window_s, deadline_text)


def is_url(uri: str) -> bool:
    return uri.startswith(("https://", "http://"))


def check_video_url(url: str, policy: VideoUrlPolicy, *, resolve: bool = True) -> Target:
    """The URL's shape, scheme and (with `resolve`) where its host resolves; UnsafeURL says why."""
    if len(url) > MAX_VIDEO_URL:
        raise UnsafeURL(f"video_url is longer than {MAX_VIDEO_URL} characters")
    target = parse_url(url, "video_url")
    if target.scheme == "http" and not policy.allow_http:
        raise UnsafeURL("video_url must be https:// (http:// only with VA_VIDEO_URL_ALLOW_HTTP)")
    if resolve:
        checked_address(target, allow_private=False, allowed=policy.allowed)
    return target


def _verify(policy: VideoUrlPolicy) -> ssl.SSLContext:
    """The operating system's store (on Linux OpenSSL's default file and directory, which
    SSL_CERT_FILE and SSL_CERT_DIR move), or the CA bundle alone when one is given."""
    if policy.ca_bundle is None:
        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return ssl.create_default_context(cafile=str(policy.ca_bundle))


class _TooSlow(RemoteVideoError):
    """The watchdog cut a connection below the minimum rate: `download` tries a new one."""


def _stopped(watch: Watchdog) -> None:
    """After an error: raise the reason if the deadline has passed or the watchdog cut the
    connection."""
    reason = watch.why()
    if reason is not None:
        raise RemoteVideoError(reason)
    if watch.cut is not None:
        raise _TooSlow(watch.cut)


def _ended(response: httpx.Response, watch: Watchdog) -> None:
    """After a body that ended without an error: complete when its length was announced (a short
    one raises), else only if the watchdog did not shut the connection (the end it then sees)."""
    if "content-length" in response.headers:
        return
    if watch.reason is not None:
        raise RemoteVideoError(watch.reason)
    if watch.cut is not None:
        raise _TooSlow(watch.cut)


@contextmanager
def _get(url: str, policy: VideoUrlPolicy, headers: dict[str, str], watch: Watchdog) -> Iterator[httpx.Response]:
    """A streamed GET sent to the checked address of the URL's host (no redirects), one attempt
    watched by `watch`. A RemoteVideoError raised here or in the caller's block is marked
    `private` for an inside server."""
    target = check_video_url(url, policy, resolve=False)
    address = checked_address(target, allow_private=False, allowed=policy.allowed)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    watch.begin_attempt()
    timeout = httpx.Timeout(policy.timeout_s, connect=max(0.001, min(policy.timeout_s, watch.remaining())))
    extensions: dict = {"trace": watch.trace}  # hands the watchdog the socket once TCP is connected
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host
    try:
        _stopped(watch)
        with httpx.Client(verify=_verify(policy), timeout=timeout, follow_redirects=False) as client:
            request = client.build_request(
                "GET",
                httpx.URL(url).copy_with(host=address),
                headers={"Host": host_header, "Accept-Encoding": "identity", **headers},  # byte offsets of the file
                extensions=extensions,
            )
            try:
                response = client.send(request, stream=True)
            except httpx.HTTPError as exc:
                _stopped(watch)
                raise RemoteVideoError(f"the video URL cannot be reached: {type(exc).__name__}: {exc}") from None
            try:
                _check_status(response)
                yield response
            finally:
                response.close()
    except RemoteVideoError as exc:
        exc.private = refusal(address) is not None
        raise


def _check_status(response: httpx.Response) -> None:
    code = response.status_code
    if code in (200, 206):
        return
    if code in GONE:
        raise RemoteVideoError(
            f"the video URL answered {code} {GONE[code]}: it has expired or was revoked (a presigned URL "
            "lives only until its expiry), or the object is gone"
        )
    if 300 <= code < 400:
        raise RemoteVideoError(f"the video URL redirects ({code}); give the final URL (redirects are not followed)")
    raise RemoteVideoError(f"the video URL answered {code}")


def read_head(url: str, policy: VideoUrlPolicy, size: int = 512, *, deadline_s: float | None = None) -> bytes:
    """The first `size` bytes of the video (Range asked; a server that ignores it is cut off),
    within `deadline_s` (default the policy's) and at the policy's minimum rate."""
    head = bytearray()
    pace = policy.pace(deadline_s, "the first bytes of the video did not arrive within {deadline} s")
    with Watchdog(pace) as watch, _get(url, policy, {"Range": f"bytes=0-{size - 1}"}, watch) as response:
        try:
            for chunk in response.iter_bytes():
                watch.add(len(chunk))
                head.extend(chunk)
                if len(head) >= size:
                    break
        except httpx.HTTPError as exc:
            _stopped(watch)
            raise RemoteVideoError(f"reading the video URL failed: {type(exc).__name__}: {exc}") from None
        if len(head) < size:
            _ended(response, watch)  # a short video, or the watchdog's cut
    return bytes(head[:size])


def download(url: str, dest: Path, policy: VideoUrlPolicy, *, attempts: int = 4) -> int:
    """Stream the video to `dest` in chunks; returns its size. A dropped connection is resumed
    from the bytes written with a Range request (206), or restarted when the server ignores
    Range (200). Past `policy.max_bytes`, past `policy.deadline_s` or below `policy.min_rate`
    it stops with RemoteVideoError."""
    written = 0
    last: Exception | None = None
    with open(dest, "wb") as out, Watchdog(policy.pace()) as watch:
        for _ in range(attempts):
            headers = {"Range": f"bytes={written}-"} if written else {}
            try:
                with _get(url, policy, headers, watch) as response:
                    if written and response.status_code == 200:  # Range ignored: from the start
                        out.seek(0)
                        out.truncate()
                        written = 0
                    try:
                        for chunk in response.iter_raw():  # as received: a drop keeps what came
                            watch.add(len(chunk))
                            written += len(chunk)
                            if written > policy.max_bytes:
                                raise RemoteVideoError(
                                    f"the video at the URL is larger than {policy.max_bytes} bytes "
                                    "(VA_VIDEO_URL_MAX_BYTES)"
                                )
                            out.write(chunk)
                        _ended(response, watch)
                        return written
                    except httpx.TransportError as exc:  # dropped mid-way: resume (past the deadline: stop)
                        _stopped(watch)
                        last = exc
            except _TooSlow as exc:  # too slow a connection: a new one, from what came
                last = exc
            out.flush()
    cause = str(last) if isinstance(last, _TooSlow) else f"{type(last).__name__}: {last}"
    raise RemoteVideoError(f"the video URL kept failing after {attempts} attempts: {cause}")
