"""`/metrics` on its own port (`VA_METRICS_PORT`), the way the chart runs the API: an Ingress that
routes `/` to the API's port never reaches it, and the metrics port serves nothing else."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from tests.api.test_sqlite_smoke import REPO, free_port


async def _wait_healthy(client: httpx.AsyncClient, proc: asyncio.subprocess.Process) -> None:
    for _ in range(150):
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError((await proc.stderr.read()).decode() if proc.stderr else "no answer")


async def test_metrics_answer_on_the_metrics_port_only(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VA_")}
    env.update(VA_DATA_DIR=str(tmp_path), HOST="127.0.0.1", PORT=str(port), VA_METRICS_PORT=str(metrics_port))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "api",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as api,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{metrics_port}", timeout=30) as metrics,
        ):
            await _wait_healthy(api, proc)
            assert (await api.get("/metrics")).status_code == 404
            assert (await api.get("/readyz")).status_code == 200
            scraped = await metrics.get("/metrics")
            assert scraped.status_code == 200 and "va_http_requests_total" in scraped.text
            for path in ("/healthz", "/docs", "/me/"):
                assert (await metrics.get(path)).status_code == 404, path
    finally:
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 20) == 0


async def test_metrics_port_equal_to_the_api_port_is_refused(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VA_")}
    env.update(VA_DATA_DIR=str(tmp_path), PORT=str(port), VA_METRICS_PORT=str(port))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api", cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and b"VA_METRICS_PORT must differ from PORT" in err
