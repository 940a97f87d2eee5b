"""`/metrics` on its own port (`VA_METRICS_PORT`), the way the chart runs the API: an Ingress that
routes `/` to the API's port never reaches it, and the metrics port serves nothing else."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.support.api_server import api_process, embedded_env, spawn
from tests.support.ports import free_port


async def test_metrics_answer_on_the_metrics_port_only(tmp_path: Path) -> None:
    metrics_port = free_port()
    env = embedded_env(tmp_path, free_port(), VA_METRICS_PORT=str(metrics_port))
    async with (
        api_process(env) as (api, _),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{metrics_port}", timeout=30) as metrics,
    ):
        assert (await api.get("/metrics")).status_code == 404
        assert (await api.get("/readyz")).status_code == 200
        scraped = await metrics.get("/metrics")
        assert scraped.status_code == 200 and "va_http_requests_total" in scraped.text
        for path in ("/healthz", "/docs", "/me/"):
            assert (await metrics.get(path)).status_code == 404, path


async def test_metrics_port_equal_to_the_api_port_is_refused(tmp_path: Path) -> None:
    port = free_port()
    proc = await spawn(embedded_env(tmp_path, port, VA_METRICS_PORT=str(port)), stdout=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and b"VA_METRICS_PORT must differ from PORT" in err
