"""A resource cut into shards on the test control plane: one Indexed Job whose Pods the real
scheduler places side by side on the two GPU nodes, the real job run for each Pod (the pod
runner, tests/support/pods.py), the last shard merging; the resource ends Succeeded with each
shard's phase in `status.shards`. A spec whose shards × GPUs exceed the operator's limit is
refused with both numbers."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.operator_process import OperatorProcess
from tests.support.paths import ROOT
from tests.support.pods import KwokPods, PodRunner
from tests.support.resources import create_va, jobs, phase_is
from tests.support.tasks import api_task
from tests.support.videos import pan_video, reencoded
from tests.support.waits import wait_for
from va_operator.phases import shards_of
from va_operator.reconcile import with_row_shards
from videoanalysis.exitcodes import JobExit
from videoanalysis.k8s.resource import build_videoanalysis
from videoanalysis.storage import video_uri
from videoanalysis.tables import FrameDetections, Task, TaskShard
from videoanalysis.task_status import TaskStatus

#: Where the job controller numbers an Indexed Job's Pod (also its JOB_COMPLETION_INDEX).
INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"


def test_status_shards_from_the_rows() -> None:
    rows = [
        {"index": 1, "status": "PENDING", "frames_done": 0, "frames_total": 0, "start_frame": 40, "end_frame": 80},
        {"index": 0, "status": "RUNNING", "frames_done": 7, "frames_total": 20, "start_frame": 0, "end_frame": 40},
    ]
    # Not started: the plan's range, at the task's stride (frames 40, 42, ..., 78).
    assert shards_of(rows, stride=2) == [
        {"index": 0, "phase": "Running", "framesDone": 7, "framesTotal": 20},
        {"index": 1, "phase": "Pending", "framesDone": 0, "framesTotal": 20},
    ]


async def test_the_job_takes_the_rows_shards_not_a_later_edit_of_the_spec(db: str) -> None:
    """Like every analysis parameter, the row's snapshot decides; an edit is only reported."""
    task = await api_task("team-a", params={"shards": 2})
    body = {"metadata": {"name": "va"}, "spec": {"shards": 5, "gpus": 1}, "status": {"taskId": str(task.id)}}
    assert (await with_row_shards(body))["spec"] == {"shards": 2, "gpus": 1}
    old = await api_task("team-a", params={})  # a row of an earlier version: the spec's (default) count
    assert await with_row_shards({**body, "status": {"taskId": str(old.id)}}) == {
        **body,
        "status": {"taskId": str(old.id)},
    }


@pytest.fixture(scope="module")
def two_shard_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The astronaut pan, 80 frames at 10 fps with an IDR picture every 10: two shards cut at
    frame 40 (a pre-roll of 30)."""
    d = tmp_path_factory.mktemp("shards-video")
    pan = pan_video(d / "pan.avi", frames=80, fps=10.0)
    (d / "videos").mkdir()
    return reencoded([pan.path], d / "videos" / "pan.mp4", fps=10, gop=10)


async def run_pod(runner: PodRunner, pod: Any, video: Path, work: Path) -> tuple[int, str]:
    """Report the Pod running, run its command as its index's shard, report its exit."""
    pod = await asyncio.to_thread(runner.start, pod)
    index: str = pod.metadata.annotations[INDEX_ANNOTATION]
    assert runner.env_of(pod)["JOB_COMPLETION_INDEX"] == index  # the job controller's fieldRef
    code, out = await runner.execute(
        pod,
        timeout=180,
        VA_VIDEOS_DIR=str(video.parent),
        VA_DATA_DIR=str(work / f"job-data-{index}"),
        VA_DEVICE="cpu",
    )
    await asyncio.to_thread(runner.exited, pod, code)
    return code, out


def fits_the_gpus(kube_api: client.ApiClient, pods: list[Any], per_pod: int) -> bool:
    """Every Pod is on a GPU node, and no node holds more of them than its GPUs allow."""
    used = Counter(p.spec.node_name for p in pods)
    if None in used:
        return False
    core = client.CoreV1Api(kube_api)
    gpus = {node: int(core.read_node(node).status.allocatable.get("nvidia.com/gpu", "0")) for node in used}
    return all(0 < n * per_pod <= gpus[node] for node, n in used.items())


@pytest.mark.kubernetes
async def test_two_shards_run_side_by_side_on_two_gpu_nodes_through_an_operator_restart_and_merge(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    kwok: KwokPods,
    two_shard_video: Path,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    fields = {"video_uri": video_uri("pan.mp4"), "video_name": "pan.mp4", "model": "opencv-face"}
    task = await api_task(namespace, params={"shards": 2}, **fields)
    name = create_va(kube_api, task, namespace, gpus=2)
    [job] = await wait_for(lambda: jobs(kube_api, namespace), what="the Job")
    assert (job.spec.completion_mode, job.spec.completions, job.spec.parallelism) == ("Indexed", 2, 2)
    assert job.spec.template.spec.containers[0].command[-2:] == ["--shards", "2"]

    # Both Pods placed before either ran: 2 GPUs each, so one per GPU node.
    pods: list[Any] = await asyncio.to_thread(kwok.wait_for_pods, namespace, job.metadata.name, 2)
    assert len(pods) == 2
    assert len({p.spec.node_name for p in pods}) == 2 and fits_the_gpus(kube_api, pods, per_pod=2)
    assert sorted(p.metadata.annotations[INDEX_ANNOTATION] for p in pods) == ["0", "1"]

    runner = PodRunner(kube_api)
    running = asyncio.gather(*(run_pod(runner, p, two_shard_video, tmp_path) for p in pods))
    # The operator restarted while the shards run changes nothing: one Job, its two Pods, one answer.
    await wait_for(lambda: TaskShard.filter(task_id=task.id, started_at__isnull=False).exists(), what="a shard started")
    operator.stop()
    operator.start()
    ran = await running
    assert [code for code, _ in ran] == [0, 0], [out[-2000:] for _, out in ran]
    va = await wait_for(phase_is(kube_api, namespace, name, "Succeeded"), timeout=60, what="Succeeded")
    assert [j.metadata.name for j in jobs(kube_api, namespace)] == [job.metadata.name]
    status = va["status"]
    assert status["progress"] == "100%"
    assert [(s["index"], s["phase"]) for s in status["shards"]] == [(0, "Succeeded"), (1, "Succeeded")]
    assert all(s["framesDone"] == s["framesTotal"] == 40 for s in status["shards"])

    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED and task.shards == 2 and task.merge_state
    assert task.frames_done == task.frames_total == 80
    # The answer of one run over the whole video, the same frames and counts.
    whole = await api_task(None, params={}, **fields)  # no resource: no operator
    one = await whole_run(runner, pods[0], whole, two_shard_video.parent, tmp_path / "job-data-whole")
    assert one[0] == 0, one[1][-2000:]
    await whole.refresh_from_db()
    assert task.detections == whole.detections and sum(task.detections.values()) > 0
    assert await FrameDetections.filter(task_id=task.id).count() == 80
    print(f"two-shard cluster run: {time.monotonic() - started:.1f} s")


async def whole_run(runner: PodRunner, pod: client.V1Pod, task: Task, videos: Path, data: Path) -> tuple[int, str]:
    """`python -m inference_job --task-id` of `task` with the Pod's env: one run, no shards."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "inference_job",
        "--task-id",
        str(task.id),
        cwd=ROOT,
        env={
            **os.environ,
            **runner.env_of(pod),
            "VA_VIDEOS_DIR": str(videos),
            "VA_DATA_DIR": str(data),
            "VA_DEVICE": "cpu",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
    return await proc.wait(), out.decode(errors="replace")


@pytest.mark.kubernetes
async def test_more_gpus_over_all_shards_than_the_limit_is_refused(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, make_task: Any
) -> None:
    task = await make_task(shards=4)
    assert build_videoanalysis(task, namespace)["spec"]["shards"] == 4
    name = create_va(kube_api, task, namespace, gpus=4)
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), what="Failed")
    assert va["status"]["reason"] == "InvalidSpec"
    assert "spec.shards=4 × spec.gpus=4 = 16 GPUs exceeds the operator's limit of 8" in va["status"]["message"]
    assert not jobs(kube_api, namespace)
    await task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and "VA_MAX_GPUS_PER_JOB" in (task.error or "")


@pytest.mark.kubernetes
async def test_four_shards_are_placed_at_once_and_a_permanent_exit_of_one_fails_the_job(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, kwok: KwokPods, make_task: Any
) -> None:
    """Four one-GPU shards fit the two GPU nodes at once; one shard's permanent exit code (a frame
    that does not match the plan) fails the whole Job by its pod failure policy: the other Pods are
    stopped by the job controller and the task ends FAILED with that reason."""
    task = await make_task(shards=4)
    name = create_va(kube_api, task, namespace, gpus=1)
    [job] = await wait_for(lambda: jobs(kube_api, namespace), what="the Job")
    pods: list[Any] = await asyncio.to_thread(kwok.wait_for_pods, namespace, job.metadata.name, 4)
    assert sorted(p.metadata.annotations[INDEX_ANNOTATION] for p in pods) == ["0", "1", "2", "3"]
    assert fits_the_gpus(kube_api, pods, per_pod=1)  # all four placed at once, within each node's GPUs
    runner = PodRunner(kube_api)
    for pod in pods:
        await asyncio.to_thread(runner.start, pod)
    await asyncio.to_thread(runner.exited, pods[2], int(JobExit.FRAME_MISMATCH), "frame 120 decoded at 4.9 s")
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), timeout=60, what="Failed")
    assert va["status"]["reason"] == "PermanentFailure", va["status"]
    assert "exit code 5" in va["status"]["message"], va["status"]["message"]
    batch = client.BatchV1Api(kube_api)

    def others_stopped() -> bool:
        left = kwok.core.list_namespaced_pod(namespace, label_selector=f"job-name={job.metadata.name}").items
        return not batch.read_namespaced_job(job.metadata.name, namespace).status.active and all(
            p.metadata.deletion_timestamp or p.status.phase in ("Failed", "Succeeded") for p in left
        )

    await wait_for(lambda: others_stopped() or None, timeout=60, what="the other shards' Pods stopped")
    await task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and "5" in (task.error or ""), task.error
