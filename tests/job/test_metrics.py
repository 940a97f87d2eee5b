"""The job's metrics (frames/s, batch size, model vs decode time): written to a file and pushed
to a real Prometheus Pushgateway when the run ends."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.job_harness import JobHarness
from tests.support.ports import free_port
from tests.support.videos import PanVideo

PUSHGATEWAY = "/usr/bin/prometheus-pushgateway"


def values(text: str, **labels: str) -> dict[str, float]:
    return {
        s.name: s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if all(s.labels.get(k) == v for k, v in labels.items())
    }


@pytest.fixture
def pushgateway(tmp_path) -> Iterator[str]:
    """A real Pushgateway on a free loopback port (installed by `make test`: mk/metrics.mk)."""
    port = free_port()
    proc = subprocess.Popen(
        [PUSHGATEWAY, f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(5)


async def test_run_metrics_are_written_and_pushed(
    harness: JobHarness, pan: PanVideo, tmp_path, pushgateway: str
) -> None:
    shutil.copy(pan.path, harness.videos_dir / "pan.mp4")
    task = await harness.task("pan.mp4", frame_stride=2)
    metrics_file = tmp_path / "metrics" / "job.prom"
    result = await harness.run(
        task, VA_BATCH_SIZE="4", VA_METRICS_FILE=str(metrics_file), VA_PUSHGATEWAY_URL=pushgateway
    )
    assert result.returncode == 0, result.stderr
    written = values(metrics_file.read_text(), model="opencv-face")
    analysed = (pan.frames + 1) // 2
    assert written["va_job_frames"] == analysed
    assert written["va_job_batch_size"] == 4
    assert 0 < written["va_job_model_seconds"] < written["va_job_wall_seconds"]
    assert written["va_job_decode_seconds"] > 0
    fps = written["va_job_frames_per_second"]
    assert fps == pytest.approx(analysed / written["va_job_wall_seconds"], rel=1e-6)
    pushed = values(httpx.get(f"{pushgateway}/metrics").text, task_id=str(task.id))
    assert pushed["va_job_frames"] == analysed and pushed["va_job_batch_size"] == 4
    assert f"{analysed} frames in" in result.stderr  # the summary is logged as well


async def test_unreachable_pushgateway_does_not_fail_the_analysis(harness: JobHarness, pan: PanVideo) -> None:
    shutil.copy(pan.path, harness.videos_dir / "pan.mp4")
    task = await harness.task("pan.mp4", frame_stride=6)
    result = await harness.run(task, VA_PUSHGATEWAY_URL="http://127.0.0.1:9")
    assert result.returncode == 0, result.stderr
    assert "could not push metrics" in result.stderr
    await task.refresh_from_db()
    assert task.status == "SUCCEEDED"
