"""A real API server (`python -m api` under uvicorn, local dispatcher) on a free loopback port,
on the session's PostgreSQL database, and a `cli` helper that runs the real Typer app against it
with its own config dir (so each test user has its own token file)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.conftest import TEST_SECRET
from videoanalysis.cli.main import app

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30
MAX_UPLOAD_BYTES = 2_000_000  # the test server's cap (VA_MAX_UPLOAD_BYTES); test videos are smaller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"API exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"API not ready after {START_TIMEOUT_S}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def api_server(db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the API served by uvicorn in a child process; stopped at the end of the session."""
    tmp = tmp_path_factory.mktemp("cli-api")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VA_")}
    env.update(
        HOST="127.0.0.1",
        PORT=str(port),
        PYTHONPATH=str(REPO),
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
        # not take the deliveries that tests/webhooks sends itself (it would refuse loopback).
        VA_WEBHOOK_POLL_SECONDS="86400",
        # Its own queue: the task table is the local dispatcher's queue, and this server must not
        # run other tests' tasks (their videos are in their own folders).
        VA_LOCAL_QUEUE=f"cli-{uuid.uuid4().hex[:8]}",
    )
    (tmp / "videos").mkdir()
    log = tmp / "api.log"
    with open(log, "w") as log_fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api"], cwd=REPO, env=env, stdout=log_fh, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


CliRun = Callable[..., Result]


@pytest.fixture
def cli_as(api_server: str, tmp_path: Path) -> Callable[[str], CliRun]:
    """`run = cli_as("alice")` gives `run(*args)`: the CLI with alice's own config dir."""

    def user(name: str) -> CliRun:
        config = tmp_path / f"config-{name}"

        def run(*args: str, url: str | None = None, env: dict[str, str] | None = None) -> Result:
            env = {"VA_CONFIG_DIR": str(config), "VA_URL": url or api_server, **(env or {})}
            return CliRunner().invoke(app, list(args), env=env)

        run.config_dir = config  # type: ignore[attr-defined]
        return run

    return user


@pytest.fixture
def cli_user(cli_as: Callable[[str], CliRun]) -> CliRun:
    """The CLI of a freshly signed-up user."""
    run = cli_as("owner")
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    result = run("signup", "--email", email, "--password", "correct horse battery")
    if result.exit_code != 0:
        raise RuntimeError(f"signup failed: {result.output}")
    run.email = email  # type: ignore[attr-defined]
    return run
