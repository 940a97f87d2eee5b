"""`python -m api` as its own process, the way `make run` starts it (the embedded default):
the environment, the start-up wait on /healthz and the clean stop, for the tests that need a
real server process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """This environment without any VA_ setting of the caller's, the server on 127.0.0.1:port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VA_")}
    env.update(VA_DATA_DIR=str(data_dir), HOST="127.0.0.1", PORT=str(port), **extra)
    return env


async def spawn(
    env: dict[str, str], stdout: int = asyncio.subprocess.DEVNULL, stderr: int = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api", cwd=REPO, env=env, stdout=stdout, stderr=stderr
    )


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
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{env['PORT']}", timeout=30) as client:
            await wait_healthy(client, proc)
            yield client, proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(proc.wait(), 20) == 0
