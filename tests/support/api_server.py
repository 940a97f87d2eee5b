"""`python -m api` as a process of its own, the way `make run` and the image start it.

One start command (`api_command`) and one environment builder (`api_env`), with two faces:
async (`spawn`, `wait_healthy`, `api_process`) for async tests, and sync (`running_api`) for
session fixtures and sync tests. `api_server` is the session's server on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.api_app import TEST_SECRET
from tests.support.paths import ROOT
from tests.support.ports import answers, free_port

START_TIMEOUT_S = 30
MAX_UPLOAD_BYTES = 2_000_000  # the session server's cap (VA_MAX_UPLOAD_BYTES); test videos are smaller


def api_command(python: str | Path = sys.executable) -> list[str]:
    return [str(python), "-m", "api"]


def api_env(port: int, **settings: str) -> dict[str, str]:
    """This environment without any VA_ setting of the caller's, the server on 127.0.0.1:port,
    plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VA_")}
    env.update(HOST="127.0.0.1", PORT=str(port), **settings)
    return env


def embedded_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """`api_env` of the embedded default: SQLite and the generated secret in `data_dir`."""
    return api_env(port, VA_DATA_DIR=str(data_dir), **extra)


def api_url(env: dict[str, str]) -> str:
    return f"http://127.0.0.1:{env['PORT']}"


# --- async ------------------------------------------------------------------------------------


async def spawn(
    env: dict[str, str], stdout: int = asyncio.subprocess.DEVNULL, stderr: int = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(*api_command(), cwd=ROOT, env=env, stdout=stdout, stderr=stderr)


async def wait_healthy(client: httpx.AsyncClient, proc: asyncio.subprocess.Process, tries: int = 150) -> None:
    """Until /healthz answers 200 (`tries` tenths of a second at most; then the process is
    killed and its stderr raised)."""
    for _ in range(tries):
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError((await proc.stderr.read()).decode() if proc.stderr else "no answer")


@asynccontextmanager
async def api_process(env: dict[str, str]) -> AsyncIterator[tuple[httpx.AsyncClient, asyncio.subprocess.Process]]:
    """A started server and a client on it; stopped by SIGINT afterwards, which must exit 0."""
    proc = await spawn(env)
    try:
        async with httpx.AsyncClient(base_url=api_url(env), timeout=30) as client:
            await wait_healthy(client, proc)
            yield client, proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(proc.wait(), 20) == 0


# --- sync -------------------------------------------------------------------------------------


@contextmanager
def running_api(
    env: dict[str, str],
    log: Path,
    python: str | Path = sys.executable,
    cwd: Path = ROOT,
    ready_path: str = "/healthz",
    timeout_s: float = START_TIMEOUT_S,
) -> Iterator[str]:
    """A started server's URL, once `ready_path` answers 200; its output goes to `log`. Another
    environment's interpreter (`python`) runs the API it installed, from `cwd`."""
    with open(log, "w") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(api_command(python), cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = api_url(env)
    try:
        deadline = time.monotonic() + timeout_s
        while not answers(f"{url}{ready_path}"):
            if proc.poll() is not None:
                raise RuntimeError(f"API exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"API not ready after {timeout_s}s:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def api_server(db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the API served by uvicorn in a child process (local dispatcher) on the session
    database; stopped at the end of the session."""
    tmp = tmp_path_factory.mktemp("api-server")
    (tmp / "videos").mkdir()
    env = api_env(
        free_port(),
        PYTHONPATH=str(ROOT),
        VA_ENVIRONMENT="development",
        VA_SECRET_KEY=TEST_SECRET,
        VA_DATABASE_URL=db,
        VA_DATA_DIR=str(tmp / "data"),
        VA_VIDEOS_DIR=str(tmp / "videos"),
        VA_DISPATCHER="local",
        VA_DEVICE="cpu",
        VA_PROGRESS_INTERVAL_S="0",
        VA_LOCAL_CONCURRENCY="2",
        VA_MAX_UPLOAD_BYTES=str(MAX_UPLOAD_BYTES),
        # The property-based fuzzing (tests/api/test_fuzz.py) signs in thousands of times.
        VA_SIGNIN_MAX_FAILURES="1000000",
        VA_SIGNIN_ACCOUNT_MAX_FAILURES="1000000",
        # This server outlives its tests on the shared session database: its webhook loop must
        # not take the deliveries that tests/core/webhooks sends itself (it would refuse loopback).
        VA_WEBHOOK_POLL_SECONDS="86400",
        # Its own queue: the task table is the local dispatcher's queue, and this server must not
        # run other tests' tasks (their videos are in their own folders).
        VA_LOCAL_QUEUE=f"api-{uuid.uuid4().hex[:8]}",
    )
    with running_api(env, tmp / "api.log") as url:
        yield url
