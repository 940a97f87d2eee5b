"""Upload through the API (kubernetes dispatcher) -> resource -> the operator's Job -> the Pod's
own command run here (the simulated kubelet's part) -> detections read back through the API."""
from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from api.dispatchers import create_dispatcher
from tests.k8s.cluster import ROOT, OperatorProcess, kubectl
from tests.k8s.conftest import wait_for
from tests.k8s.kubelet import SimulatedKubelet
from tests.k8s.test_operator import jobs, phase_is
from tests.videos import pan_video
from videoanalysis.k8s import names

pytestmark = pytest.mark.kubernetes


async def run_pod_command(kubelet: SimulatedKubelet, pod: client.V1Pod, videos_dir: Path, data_dir: Path) -> int:
    """Run the Pod's container command with the Pod's env; the PVC mount is the API's videos dir."""
    env = kubelet.env_of(pod)
    env.update(VA_VIDEOS_DIR=str(videos_dir), VA_DATA_DIR=str(data_dir))  # the volume mounts
    command = pod.spec.containers[0].command
    assert command[:3] == ["python", "-m", "inference_job"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *command[1:], cwd=ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
    return proc.returncode


async def test_upload_runs_as_a_job_and_detections_come_back(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, kubelet: SimulatedKubelet,
    open_api_client: Any, api_settings: Any, signup_user: Any, tmp_path: Path,
) -> None:
    video = pan_video(tmp_path / "pan.mp4", frames=12).path
    dispatcher = create_dispatcher(api_settings(dispatcher="kubernetes", kube_namespace=namespace))
    async with open_api_client(dispatcher) as api:
        _, headers = await signup_user(api)
        with open(video, "rb") as f:
            resp = await api.post("/tasks/video-objects-detection/", headers=headers,
                                  files={"videofile": ("pan.mp4", f, "video/mp4")}, data={"model": "opencv-face"})
        assert resp.status_code == 202, resp.text
        task_id = resp.json()["task_id"]
        name = names.resource_name(task_id)
        [job] = await wait_for(lambda: jobs(kube_api, namespace), what="the Job")
        assert job.metadata.owner_references[0].name == name
        [pod] = kubelet.wait_for_pods(namespace, job.metadata.name)
        kubelet.run(pod)
        await wait_for(phase_is(kube_api, namespace, name, "Running"), what="Running")
        exit_code = await run_pod_command(kubelet, pod, api.settings.resolved_videos_dir, tmp_path / "job-data")
        kubelet.finish(pod, exit_code=exit_code)
        await wait_for(phase_is(kube_api, namespace, name, "Succeeded"), what="Succeeded")

        result = (await api.get(f"/tasks/video-analysis-result/{task_id}/", headers=headers)).json()
        assert result["status"] == "SUCCEEDED"
        faces = [o for frame in result["detections"] for o in frame["objects"] if o["label"] == "face"]
        assert len(result["detections"]) == 12 and len(faces) >= 6
        assert kubectl("get", "va", name, "-n", namespace, "--no-headers").stdout.split()[1] == "Succeeded"
        assert len(jobs(kube_api, namespace)) == 1


async def test_refused_resource_gives_503_and_a_failed_task(
    k8s_cluster: Path, open_api_client: Any, api_settings: Any, signup_user: Any, tmp_path: Path,
) -> None:
    dispatcher = create_dispatcher(api_settings(dispatcher="kubernetes", kube_namespace="no-such-namespace"))
    async with open_api_client(dispatcher) as api:
        _, headers = await signup_user(api)
        video = pan_video(tmp_path / "pan.mp4", frames=4).path
        with open(video, "rb") as f:
            resp = await api.post("/tasks/video-objects-detection/", headers=headers,
                                  files={"videofile": ("pan.mp4", f, "video/mp4")})
        assert resp.status_code == 503
        assert 'namespaces "no-such-namespace" not found' in resp.json()["detail"]
        [task] = (await api.get("/tasks/", headers=headers)).json()["tasks"]
    assert task["status"] == "FAILED"
    assert kubectl("get", "va", "-A", "-o", "name").stdout.count(task["task_id"]) == 0
