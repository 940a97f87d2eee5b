"""The smoke test's client, standard library only (it runs before any venv exists):
wait for /readyz, sign up, upload a video, wait for SUCCEEDED with detections."""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any


def call(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def wait_ready(api: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if call("GET", f"{api}/readyz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"smoke: {api}/readyz did not answer 200 within {timeout:.0f} s")


def multipart(fields: dict[str, str], file_field: str, path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{path.name}"\r\nContent-Type: video/mp4\r\n\r\n'.encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("api")
    parser.add_argument("video", type=Path)
    parser.add_argument("--ready-timeout", type=float, default=900)
    parser.add_argument("--run-timeout", type=float, default=180)
    args = parser.parse_args()
    api = args.api.rstrip("/")
    started = time.monotonic()
    wait_ready(api, args.ready_timeout)
    print(f"smoke: {api} ready after {time.monotonic() - started:.1f} s")
    email = f"smoke-{uuid.uuid4().hex[:8]}@example.com"
    status, data = call(
        "POST",
        f"{api}/signup",
        json.dumps(
            {"email": email, "password": "smoke test password", "first_name": "Smoke", "last_name": "Test"}
        ).encode(),
        {"content-type": "application/json"},
    )
    if status != 201:
        raise SystemExit(f"smoke: signup answered {status}: {data}")
    auth = {"Authorization": f"Bearer {data['access_token']}"}
    body, content_type = multipart({"model": "opencv-face"}, "videofile", args.video)
    status, data = call("POST", f"{api}/tasks/video-objects-detection/", body, {**auth, "content-type": content_type})
    if status != 202:
        raise SystemExit(f"smoke: upload answered {status}: {data}")
    task = data["task_id"]
    deadline = time.monotonic() + args.run_timeout
    while time.monotonic() < deadline:
        status, result = call("GET", f"{api}/tasks/video-analysis-result/{task}/?limit=500", headers=auth)
        if status != 200:
            raise SystemExit(f"smoke: result answered {status}: {result}")
        if result["status"] in ("FAILED", "CANCELLED"):
            raise SystemExit(f"smoke: task {task} ended {result['status']}: {result['error']}")
        if result["status"] == "SUCCEEDED":
            faces = sum(len(frame["objects"]) for frame in result["detections"])
            if not faces:
                raise SystemExit(f"smoke: task {task} succeeded with no detections")
            print(f"smoke: task {task} SUCCEEDED, {result['frames_done']} frames, {faces} detections")
            return 0
        time.sleep(0.5)
    raise SystemExit(f"smoke: task {task} not finished within {args.run_timeout:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
