"""Fetching a video by URL (videoanalysis.video_fetch) from a real local HTTPS server with a test CA:
the guard, the operating system's CA store, Range resumption, the size cap, an expired URL, no
redirects, and every wait ending: a trickling server is given up at the minimum rate or the
deadline, with the reason. How the job reports these failures: tests/job/test_video_url.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import trustme

from tests.support.https_videos import BLOB, Trickle, VideoServer, blob_server
from tests.support.paths import ROOT
from videoanalysis.netguard import AllowList
from videoanalysis.video_fetch import RemoteVideoError, UnsafeURL, VideoUrlPolicy, check_video_url, download, read_head


@pytest.fixture
def server(tmp_path: Path) -> Iterator[VideoServer]:
    with blob_server(tmp_path) as srv:
        yield srv


def policy(server: VideoServer, **overrides: object) -> VideoUrlPolicy:
    values: dict = {"allowed": AllowList.parse("127.0.0.1"), "ca_bundle": server.ca_bundle}
    return VideoUrlPolicy(**{**values, **overrides})


def timed(call: Callable[[], object], limit_s: float) -> tuple[BaseException | None, float]:
    """Run `call` in a thread; what it raised (None when it returned) and how long it took. A
    call still running after `limit_s` fails the test (it ends once the server stops)."""
    start = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(call)
        error = future.exception(timeout=limit_s)
    return error, time.monotonic() - start


# Test-sized limits: at least 1 KiB/s over half a second, the whole download within 1.5 s.
FAST = {"min_rate": 1024, "rate_window_s": 0.5, "deadline_s": 1.5}


def test_a_trickling_download_is_given_up_at_the_minimum_rate(server: VideoServer, tmp_path: Path) -> None:
    """A valid head, then one byte every 50 ms (20 bytes/s): each connection is cut once its
    first window has passed (whatever the per-read timeout) and resumed from what came, as a
    stalled one would be; after the 4 attempts the download fails with the reason, long before
    its deadline."""
    server.trickle["blob.mp4"] = Trickle(head=64, step=1, every_s=0.05)
    limits = {**FAST, "deadline_s": 10}
    call = lambda: download(server.url("blob.mp4"), tmp_path / "got", policy(server, **limits))  # noqa: E731
    error, took = timed(call, 5)
    assert isinstance(error, RemoteVideoError), error
    assert re.fullmatch(
        r"the video URL kept failing after 4 attempts: the server sent \d+ bytes in 0.5 s, below the minimum of 1 KiB/s",
        str(error),
    ), error
    assert took < 3.5
    ranges = [asked for _, asked in server.requests]
    assert len(ranges) == 4 and ranges[0] is None
    offsets = [int(asked.removeprefix("bytes=").removesuffix("-")) for asked in ranges[1:] if asked]
    assert len(offsets) == 3 and 64 < offsets[0] < offsets[1] < offsets[2]  # resumed from what came


def test_a_download_that_keeps_the_rate_ends_at_the_deadline(server: VideoServer, tmp_path: Path) -> None:
    """8 KiB every 50 ms (160 KiB/s, well above the minimum) of a 1 MiB file would take 6.4 s."""
    server.trickle["blob.mp4"] = Trickle(head=64, step=8192, every_s=0.05)
    error, took = timed(lambda: download(server.url("blob.mp4"), tmp_path / "got", policy(server, **FAST)), 5)
    assert isinstance(error, RemoteVideoError) and str(error) == "the download did not finish within 1.5 s", error
    assert 1.5 <= took < 2.2 and len(server.requests) == 1


def test_a_server_that_never_answers_is_given_up_at_the_deadline(server: VideoServer) -> None:
    """TCP connects (the kernel's backlog accepts it) but nothing answers the TLS handshake: the
    head's own deadline ends it, not the 30 s of a connection attempt."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"https://localhost:{silent.getsockname()[1]}/blob.mp4"
        error, took = timed(lambda: read_head(url, policy(server, rate_window_s=5), deadline_s=1), 5)
    assert isinstance(error, RemoteVideoError), error
    assert str(error) == "the first bytes of the video did not arrive within 1 s" and error.private
    assert took < 1.6


def test_a_fast_download_is_unaffected_by_the_limits(server: VideoServer, tmp_path: Path) -> None:
    dest = tmp_path / "got.mp4"
    assert download(server.url("blob.mp4"), dest, policy(server, **FAST)) == len(BLOB)
    assert dest.read_bytes() == BLOB


def test_loopback_is_refused_unless_the_allow_list_names_it(server: VideoServer, tmp_path: Path) -> None:
    url = server.url("blob.mp4")
    with pytest.raises(
        UnsafeURL, match=r"video_url host 'localhost' resolves to a non-public address \(127.0.0.1: loopback\)"
    ):
        check_video_url(url, policy(server, allowed=AllowList()))
    assert check_video_url(url, policy(server, allowed=AllowList.parse("localhost"))).host == "localhost"
    assert server.requests == []  # refused before any request


def test_http_needs_the_setting_and_the_certificate_needs_the_ca(server: VideoServer, tmp_path: Path) -> None:
    with pytest.raises(UnsafeURL, match="must be https://"):
        check_video_url(server.url("blob.mp4").replace("https", "http"), policy(server))
    with pytest.raises(RemoteVideoError, match=r"cannot be reached: ConnectError.*certificate verify failed"):
        read_head(server.url("blob.mp4"), policy(server, ca_bundle=None))


# Three clients in one process whose OpenSSL default paths (SSL_CERT_FILE, SSL_CERT_DIR) are the
# operating system's store: videoanalysis.video_fetch with no CA bundle, httpx's default (certifi, or
# SSL_CERT_FILE alone when set: what remote used to do) and certifi's bundle alone.
_THREE_CLIENTS = """
import json, ssl, sys
import certifi, httpx
from videoanalysis.netguard import AllowList
from videoanalysis.video_fetch import VideoUrlPolicy, read_head

def attempt(fetch):
    try:
        return fetch()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"

url, ip_url = sys.argv[1:]
certifi_only = httpx.Client(verify=ssl.create_default_context(cafile=certifi.where()), trust_env=False)
print(json.dumps({
    "remote": attempt(lambda: read_head(url, VideoUrlPolicy(allowed=AllowList.parse("127.0.0.1")), size=4).hex()),
    "httpx default": attempt(lambda: httpx.get(ip_url).content[:4].hex()),
    "certifi": attempt(lambda: certifi_only.get(ip_url).content[:4].hex()),
}))
"""


def test_without_a_ca_bundle_the_operating_system_store_is_trusted(server: VideoServer, tmp_path: Path) -> None:
    """The store holds the test CA in its hashed directory (as update-ca-certificates puts a
    company CA in /etc/ssl/certs); its bundle file holds another CA, so neither certifi nor
    httpx's reading of SSL_CERT_FILE can pass for it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to name the CA file by its subject hash")
    subject_hash = subprocess.run(
        [openssl, "x509", "-hash", "-noout", "-in", str(server.ca_bundle)], capture_output=True, text=True, check=True
    ).stdout.strip()
    store = tmp_path / "certs"
    store.mkdir()
    shutil.copy(server.ca_bundle, store / f"{subject_hash}.0")
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))
    env = {**os.environ, "SSL_CERT_FILE": str(tmp_path / "other-ca.pem"), "SSL_CERT_DIR": str(store)}
    done = subprocess.run(
        [sys.executable, "-c", _THREE_CLIENTS, server.url("blob.mp4"), server.url("blob.mp4", host="127.0.0.1")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["remote"] == BLOB[:4].hex()
    assert "CERTIFICATE_VERIFY_FAILED" in got["httpx default"]
    assert "CERTIFICATE_VERIFY_FAILED" in got["certifi"]


def test_head_is_one_range_request(server: VideoServer) -> None:
    assert read_head(server.url("blob.mp4"), policy(server), size=300) == BLOB[:300]
    assert server.requests == [("blob.mp4", "bytes=0-299")]


def test_download_resumes_with_range_after_a_dropped_connection(server: VideoServer, tmp_path: Path) -> None:
    server.drop_once["blob.mp4"] = 300_000
    dest = tmp_path / "got.mp4"
    assert download(server.url("blob.mp4"), dest, policy(server)) == len(BLOB)
    assert dest.read_bytes() == BLOB
    [(_, first), (_, second)] = server.requests
    assert first is None and second is not None and second.startswith("bytes=") and second != "bytes=0-"


def test_download_starts_over_when_the_server_ignores_range(server: VideoServer, tmp_path: Path) -> None:
    server.ranges = False
    server.drop_once["blob.mp4"] = 300_000
    dest = tmp_path / "got.mp4"
    assert download(server.url("blob.mp4"), dest, policy(server)) == len(BLOB)
    assert dest.read_bytes() == BLOB


def test_size_cap_and_expired_url(server: VideoServer, tmp_path: Path) -> None:
    with pytest.raises(RemoteVideoError, match="larger than 1000 bytes"):
        download(server.url("blob.mp4"), tmp_path / "a", policy(server, max_bytes=1000))
    server.expired.add("blob.mp4")
    with pytest.raises(RemoteVideoError, match="answered 403 Forbidden: it has expired or was revoked"):
        download(server.url("blob.mp4"), tmp_path / "b", policy(server))
    with pytest.raises(RemoteVideoError, match="answered 404 Not Found"):
        read_head(server.url("gone.mp4"), policy(server))
