"""Upload a real video through the API -> VideoAnalysis resource -> the operator's Job -> the
inference image's own command -> real detections read back through the API.

The same test runs on the cluster it is given (tests/e2e/drivers.py): the test API server with
a simulated container runtime in `make test`, or kind with the real kubelet in `make e2e-kind`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.e2e.drivers import ClusterDriver
from tests.support.cluster import kubectl
from tests.support.resources import job_of, phase_is
from tests.support.uploads import upload
from tests.support.videos import pan_video
from tests.support.waits import wait_for
from videoanalysis.k8s import names

FRAMES = 12


@pytest.mark.kubernetes
@pytest.mark.kind
async def test_upload_runs_as_a_job_and_detections_come_back(
    cluster: ClusterDriver,
    signup_user: Any,
    tmp_path: Path,
) -> None:
    video = pan_video(tmp_path / "pan.mp4", frames=FRAMES).path
    async with cluster.api() as api:
        _, headers = await signup_user(api)
        task_id = await upload(api, headers, video)
        name = names.resource_name(task_id)
        [job] = await wait_for(
            lambda: job_of(cluster.kube, cluster.namespace, name), timeout=cluster.timeout, what="the Job"
        )
        assert job.metadata.name == names.job_name(name)
        assert job.spec.template.spec.containers[0].command[-2:] == ["--task-id", task_id]
        await cluster.run_job(job)
        await wait_for(
            phase_is(cluster.kube, cluster.namespace, name, "Succeeded"),
            timeout=cluster.timeout,
            what=f"{name} Succeeded",
        )

        result = (await api.get(f"/tasks/video-analysis-result/{task_id}/", headers=headers)).json()
    assert result["status"] == "SUCCEEDED", result
    faces = [o for frame in result["detections"] for o in frame["objects"] if o["label"] == "face"]
    assert len(result["detections"]) == FRAMES and len(faces) >= FRAMES // 2
    assert kubectl("get", "va", name, "-n", cluster.namespace, "--no-headers").stdout.split()[1] == "Succeeded"
    # The row, then the resource, can move before the job controller has counted the Pod.
    finished = await wait_for(
        lambda: (
            (j := client.BatchV1Api(cluster.kube).read_namespaced_job(job.metadata.name, cluster.namespace))
            and j.status.succeeded
            and j
        ),
        timeout=cluster.timeout,
        what="the Job's Pod counted",
    )
    assert finished.status.succeeded == 1 and not finished.status.failed
    assert len(job_of(cluster.kube, cluster.namespace, name)) == 1


@pytest.mark.kubernetes
async def test_refused_resource_gives_503_and_a_failed_task(
    k8s_cluster: Path,
    open_api_client: Any,
    signup_user: Any,
    tmp_path: Path,
) -> None:
    """The API server refuses the resource (no such namespace): 503 with its message, task FAILED,
    nothing left behind. Test API server only: a deployed API's namespace is fixed by the chart."""
    async with open_api_client(dispatcher="kubernetes", kube_namespace="no-such-namespace") as api:
        _, headers = await signup_user(api)
        video = pan_video(tmp_path / "pan.mp4", frames=4).path
        with open(video, "rb") as f:
            resp = await api.post(
                "/tasks/video-objects-detection/", headers=headers, files={"videofile": ("pan.mp4", f, "video/mp4")}
            )
        assert resp.status_code == 503
        assert 'namespaces "no-such-namespace" not found' in resp.json()["detail"]
        [task] = (await api.get("/tasks/", headers=headers)).json()["tasks"]
    assert task["status"] == "FAILED"
    assert kubectl("get", "va", "-A", "-o", "name").stdout.count(task["task_id"]) == 0
