"""Bounded bodies against the real server (uvicorn): 413 as soon as a limit is passed, answered
while the client is still sending (the tests send only the start of a body and read the answer)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx

from tests.support.accounts import sign_up_sync


def exchange(url: str, head: str, body_start: bytes) -> bytes:
    """Send the request head and the first bytes of its body, then read the answer; the rest of
    the body is never sent, so an answer proves the server did not wait for it."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body_start)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def _length(answer: bytes) -> int:
    for line in answer.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def token(url: str) -> str:
    return sign_up_sync(url)[0]["access_token"]


def test_declared_huge_json_is_refused_from_its_content_length(api_server):
    head = "POST /signin HTTP/1.1\nHost: api\nContent-Type: application/json\nContent-Length: 30000000\n"
    answer = exchange(api_server, head, b'{"email": "' + b"a" * 1000)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"exceeds the limit of 65536 bytes" in answer


def test_chunked_json_is_cut_off_once_past_the_limit(api_server):
    head = "POST /signin HTTP/1.1\nHost: api\nContent-Type: application/json\nTransfer-Encoding: chunked\n"
    chunk = b"a" * 16384
    chunks = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(6))  # 96 KiB, never ended
    answer = exchange(api_server, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_many_tiny_multipart_fields_of_a_large_upload_are_refused_at_the_first_extra(api_server):
    boundary = "b0undary"
    fields = b"".join(  # a known name, repeated: an unknown one is refused at its first part
        f'--{boundary}\r\nContent-Disposition: form-data; name="labels"\r\n\r\nx\r\n'.encode() for _ in range(60)
    )
    head = (
        f"POST /tasks/video-objects-detection/ HTTP/1.1\nHost: api\nAuthorization: Bearer {token(api_server)}\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\nContent-Length: 1900000\n"  # within the test server's 2 MB cap
    )
    answer = exchange(api_server, head, fields)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"more than 50 fields (VA_MAX_FORM_FIELDS)" in answer


def test_a_part_with_headers_past_the_limit_is_refused_before_the_rest_and_others_are_served(
    api_server,
):
    """The part's headers go on for 64 KiB of a 1.9 MB body: 413 naming the limit once it is
    passed, not after the body (nor a 400 for a malformed body), and meanwhile a request that
    sent only half its headers leaves the server answering others."""
    boundary = "b0undary"
    head = (
        f"POST /tasks/video-objects-detection/ HTTP/1.1\nHost: api\nAuthorization: Bearer {token(api_server)}\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\nContent-Length: 1900000\n"
    )
    part = f'--{boundary}\r\nContent-Disposition: form-data; name="videofile"; filename="a.mp4"\r\n'.encode()
    padding = b"".join(b"X-Pad-%d: %s\r\n" % (n, b"p" * 4000) for n in range(16))
    parts = urlsplit(api_server)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as stalled:
        stalled.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + part + padding[:6000])
        assert httpx.get(f"{api_server}/healthz", timeout=5).status_code == 200
    answer = exchange(api_server, head, part + padding)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"headers exceed the limit of 8 lines and 8192 bytes" in answer


async def test_form_with_too_many_fields_gets_413_and_a_small_one_passes(api_client):
    many = {f"f{n}": "x" for n in range(60)} | {"username": "a@example.com", "password": "x"}
    resp = await api_client.post("/signin", data=many)
    assert resp.status_code == 413 and "more than 50 fields" in resp.json()["detail"]
    resp = await api_client.post("/signin", data={"username": "a@example.com", "password": "x"})
    assert resp.status_code == 401


async def test_json_over_the_limit_gets_413_with_the_setting_named(api_client):
    resp = await api_client.post("/signup", json={"email": "big@example.com", "password": "p" * 70_000})
    assert resp.status_code == 413 and "VA_MAX_JSON_BYTES" in resp.json()["detail"]
