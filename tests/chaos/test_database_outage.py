"""A database outage of two and a half minutes under a Job: every Pod waits with its capped back-off before it
exits INTERRUPTED (75), the Job's pod failure policy ignores those exits (no back-off limit
spent), so the Job neither hot-loops nor fails, and the run resumes and finishes once the
database is back. Each Pod, once scheduled, runs its own command (tests/support/pods.py PodRunner)."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.chaos.harness import PgTasks
from tests.support.operator_process import OperatorProcess
from tests.support.paths import ROOT
from tests.support.pods import PodRunner
from tests.support.resources import create_va, job_condition, jobs, phase_is
from tests.support.waits import wait_for
from videoanalysis.exitcodes import JobExit

pytestmark = pytest.mark.kubernetes
#: How long the database refuses connections (`VA_OUTAGE_S` changes it when exploring).
OUTAGE_S = float(os.environ.get("VA_OUTAGE_S", "150"))  # two waits of a Pod, at least
#: A Pod facing a database that is down waits at least this long before it exits 75 (the job's
#: default back-off: 1 + 2 + 4 + 8 + 16 + 32 s).
MIN_POD_WAIT_S = 60


@dataclass
class JobPods:
    """Runs every Pod of one Job, one after the other, as the job controller makes them:
    Running, the Pod's own command, then its exit code."""

    runner: PodRunner
    namespace: str
    job: str
    env: dict[str, str]
    runs: list[tuple[float, int]] = field(default_factory=list)  # (monotonic start, exit code)

    async def run(self) -> None:
        """Until the Job has its verdict (Complete or Failed)."""
        seen: set[str] = set()
        while not self._finished():
            pods = self.runner.core.list_namespaced_pod(self.namespace, label_selector=f"job-name={self.job}").items
            fresh = sorted(
                (p for p in pods if p.metadata.name not in seen), key=lambda p: p.metadata.creation_timestamp
            )
            if not fresh:
                await asyncio.sleep(0.5)
                continue
            pod = fresh[0]
            seen.add(pod.metadata.name)
            started = time.monotonic()
            code, _ = await self.runner.run_to_exit(pod, timeout=240, **self.env)
            self.runs.append((started, code))

    def _finished(self) -> bool:
        job = client.BatchV1Api(self.runner.core.api_client).read_namespaced_job(self.job, self.namespace)
        return any(c.type in ("Complete", "Failed") and c.status == "True" for c in job.status.conditions or [])


@pytest.mark.timeout(OUTAGE_S + 240)
async def test_a_long_database_outage_neither_hot_loops_nor_spends_the_back_off_limit(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    make_task: Any,
    db: str,
    tmp_path: Path,
) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(ROOT / "tests" / "data" / "astronaut-pan.mp4", videos / "v.mp4")  # make_task's rows name videos://v.mp4
    task = await make_task()
    name = create_va(kube_api, task, namespace, backoffLimit=1)
    [job] = await wait_for(lambda: jobs(kube_api, namespace), what="the Job")
    env = {"VA_VIDEOS_DIR": str(videos), "VA_DATA_DIR": str(tmp_path / "data"), "VA_DEVICE": "cpu"}
    runner = JobPods(PodRunner(kube_api), namespace, job.metadata.name, env)
    database = PgTasks(db)
    await database.allow_connections(False)  # new connections refused; the operator keeps its own
    outage_started = time.monotonic()
    running = asyncio.create_task(runner.run())
    try:
        await asyncio.sleep(OUTAGE_S)
    finally:
        await database.allow_connections(True)
    await asyncio.wait_for(running, timeout=200)

    during = [code for started, code in runner.runs if started < outage_started + OUTAGE_S]
    minutes = OUTAGE_S / 60
    print(f"{len(during)} Pod(s) in a {OUTAGE_S:.0f} s outage: {len(during) / minutes:.2f} per minute")
    assert len(during) <= OUTAGE_S // MIN_POD_WAIT_S + 1  # at most one a minute, and the first
    assert all(code == JobExit.INTERRUPTED for code in during[:-1])  # the last one may live to finish
    assert runner.runs[-1][1] == JobExit.OK
    complete = await wait_for(
        lambda: job_condition(kube_api, namespace, job.metadata.name, "Complete"), what="Complete"
    )
    assert complete is not None
    finished = client.BatchV1Api(kube_api).read_namespaced_job(job.metadata.name, namespace)
    assert not finished.status.failed  # the Ignore rule: no retry was counted against backoffLimit 1
    va = await wait_for(phase_is(kube_api, namespace, name, "Succeeded"), what="Succeeded")
    assert va["status"]["framesDone"] == va["status"]["framesTotal"] > 0
