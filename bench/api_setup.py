"""The API benchmark's fixtures: a fresh PostgreSQL database with the migrated schema and seeded
rows, and the two servers (the project's `python -m api` and `bench.api_bare`) as processes."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "bench password 1"
STATUSES = ("SUCCEEDED", "FAILED", "CANCELLED", "PENDING", "RUNNING")


@dataclass(frozen=True)
class Seed:
    token: str
    email: str
    result_task: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def database(pg_server: str) -> Iterator[str]:
    """A new database with every migration applied, dropped afterwards."""
    from videoanalysis.migrate import migrate

    name = f"va_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(pg_server, f'CREATE DATABASE "{name}"'))
    url = f"{pg_server}/{name}"
    try:
        asyncio.run(migrate(url))
        yield url
    finally:
        asyncio.run(_admin(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(pg_server: str, sql: str) -> None:
    conn = await asyncpg.connect(f"{pg_server}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def seed_rows(url: str, owner_id: int, *, users: int, tasks_per_user: int, frames: int) -> str:
    """Other users' tasks (so reads must find the caller's among many), the caller's tasks, and
    one task of the caller's with `frames` analysed frames; returns that task's id."""
    rng = random.Random(0)
    conn = await asyncpg.connect(url)
    try:
        other = await conn.fetch(
            "INSERT INTO users (email, first_name, last_name, password_hash, token_version, created_at) "
            "SELECT 'u' || g || '@example.com', '', '', '-', 0, now() FROM generate_series(1, $1) g RETURNING id",
            users,
        )
        owners = [r["id"] for r in other for _ in range(tasks_per_user)] + [owner_id] * tasks_per_user
        now = datetime.now(UTC)
        rows = [(uuid.uuid4(), o, rng.choice(STATUSES), now - timedelta(seconds=rng.randrange(10**6))) for o in owners]
        await conn.copy_records_to_table(
            "tasks",
            records=[(*r, "opencv-face", "{}", "videos://x.mp4", "x.mp4", 100, 100) for r in rows],
            columns=[
                "id",
                "owner_id",
                "status",
                "created_at",
                "model",
                "params",
                "video_uri",
                "video_name",
                "frames_total",
                "frames_done",
            ],
        )
        result = uuid.uuid4()
        await conn.execute(
            "INSERT INTO tasks (id, owner_id, status, created_at, model, params, video_uri, video_name, "
            "frames_total, frames_done) VALUES ($1, $2, 'SUCCEEDED', now(), 'opencv-face', '{}', "
            "'videos://r.mp4', 'r.mp4', $3, $3)",
            result,
            owner_id,
            frames,
        )
        objects = (
            '[{"label": "face", "score": 0.91, "box": [10, 20, 110, 140]}, '
            '{"label": "face", "score": 0.62, "box": [200, 40, 260, 120]}]'
        )
        await conn.copy_records_to_table(
            "frame_detections",
            records=[(result, i, i / 25, objects) for i in range(frames)],
            columns=["task_id", "frame_index", "timestamp", "objects"],
        )
        await conn.execute("ANALYZE")
        return str(result)
    finally:
        await conn.close()


@contextmanager
def server(
    module: str, port: int, env: dict[str, str], log: Path, probe: str, cwd: Path | None = None
) -> Iterator[str]:
    """`python -m module` on 127.0.0.1:port, its log (uvicorn's access log too) in `log`; run
    from `cwd` (its modules come first on the path) when given."""
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module],
            env={**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )
        try:
            _wait_up(base + probe, proc, log)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited ({proc.returncode}):\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url}: no answer within 60 s")


def wait_quiet(url: str, fast_s: float = 0.02, deadline_s: float = 60) -> None:
    """Until three requests in a row are answered within `fast_s`: the server is idle again."""
    end, streak = time.monotonic() + deadline_s, 0
    while streak < 3 and time.monotonic() < end:
        start = time.perf_counter()
        httpx.get(url, timeout=deadline_s)
        streak = streak + 1 if time.perf_counter() - start < fast_s else 0


def api_env(database_url: str, data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    return {
        "VA_ENVIRONMENT": "development",
        "VA_SECRET_KEY": SECRET,
        "VA_DATABASE_URL": database_url,
        "VA_DATA_DIR": str(data_dir),
        "VA_ACCESS_TOKEN_MINUTES": "240",
        **extra,
    }


def signup(base: str, email: str) -> tuple[int, str]:
    body = {"email": email, "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"}
    resp = httpx.post(f"{base}/signup", json=body, timeout=30)
    resp.raise_for_status()
    data = resp.json()
    return data["user"]["id"], data["access_token"]


def signin_limit_overrides() -> dict[str, str]:
    """Raise every sign-in limit this build has (integer settings such as `signin_max_failures`);
    windows and durations are left alone. None in this build: nothing to raise."""
    from api.config import ApiSettings

    out = {}
    for name, field in ApiSettings.model_fields.items():
        about_signin = any(w in name for w in ("signin", "sign_in", "login"))
        is_limit = any(w in name for w in ("max", "limit", "rate", "attempts", "failures"))
        if about_signin and is_limit and field.annotation is int:
            out[f"VA_{name.upper()}"] = str(10**6)
    return out
