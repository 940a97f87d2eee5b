"""The GitOps way: a VideoAnalysis applied by hand with `kubectl apply` (no task id) is an
analysis like an upload. The operator makes its task row from the spec for the owner it
names, runs the spec it started with, and fails what the schema could not check with a reason.

Simulated cluster only (the test control plane; the Pod's own command run by the simulated
container runtime).
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.drivers import ClusterDriver
from tests.support.cluster import kubectl
from tests.support.https_videos import https_video_server
from tests.support.resources import condition, event_reasons, get_va, jobs, manifest, phase_is
from tests.support.videos import pan_video
from tests.support.waits import wait_for
from va_operator.taskrow import task_id_for

FRAMES = 12
FINALIZER = "videoanalysis.io/operator"
pytestmark = pytest.mark.kubernetes


async def test_applied_by_hand_runs_for_its_owner_and_ignores_later_edits(
    cluster: ClusterDriver, signup_user: Any, tmp_path: Path
) -> None:
    video = pan_video(tmp_path / "pan.mp4", frames=FRAMES).path
    cluster.videos_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[attr-defined]
    shutil.copy(video, cluster.videos_dir / "gitops-pan.mp4")  # type: ignore[attr-defined]
    ns = cluster.namespace
    async with cluster.api() as api:
        owner, headers = await signup_user(api)
        _, stranger = await signup_user(api)
        kubectl(
            "apply",
            "-f",
            "-",
            input=manifest(ns, "pan", owner=owner["user"]["email"], videoUri="videos://gitops-pan.mp4"),
        )
        [job] = await wait_for(lambda: jobs(cluster.kube, ns), what="the Job")
        va = get_va(cluster.kube, ns, "pan")
        task_id = str(task_id_for(va["metadata"]["uid"]))
        assert va["status"]["taskId"] == task_id and va["status"]["model"] == "opencv-face"  # VA_DEFAULT_MODEL
        assert job.spec.template.spec.containers[0].command[-2:] == ["--task-id", task_id]
        assert va["metadata"].get("finalizers") == [FINALIZER]  # a Job may run: deleting it cancels

        # An edit after the start is stored by the API server, reported, and not run.
        kubectl("patch", "va", "pan", "-n", ns, "--type", "merge", "-p", json.dumps({"spec": {"frameStride": 3}}))
        changed = await wait_for(lambda: condition(get_va(cluster.kube, ns, "pan"), "SpecChanged"), what="SpecChanged")
        assert (
            changed["status"] == "True" and "spec.frameStride changed after the analysis started" in changed["message"]
        )

        await cluster.run_job(job)
        done = await wait_for(phase_is(cluster.kube, ns, "pan", "Succeeded"), what="Succeeded")
        result = (await api.get(f"/tasks/video-analysis-result/{task_id}/", headers=headers)).json()
        assert (await api.get(f"/tasks/video-analysis-result/{task_id}/", headers=stranger)).status_code == 404
    assert result["status"] == "SUCCEEDED" and result["params"]["frame_stride"] == 1
    assert len(result["detections"]) == FRAMES == result["frames_total"]  # stride 1: the edit was ignored
    faces = sum(len(f["objects"]) for f in result["detections"])
    assert faces >= FRAMES // 2
    objects = result["summary"]["objects"]  # the default tracker: one panning face, one track
    assert objects == {"face": 1}
    assert result["summary"] == {
        "detections": {"face": faces},
        "detections_total": faces,
        "objects": objects,
        "objects_total": 1,
        "zones": None,
        "lines": None,
    }
    assert done["status"]["summary"] == {
        "detections": {"face": faces},
        "detectionsTotal": faces,
        "objects": objects,
        "objectsTotal": 1,
    }
    row = kubectl("get", "va", "pan", "-n", ns, "--no-headers").stdout.split()
    assert row[:6] == ["pan", "Succeeded", "100%", str(faces), "1", "opencv-face"]
    await wait_for(lambda: "SpecChanged" in event_reasons(cluster.kube, ns, "pan"), what="the SpecChanged Event")
    # Ended: nothing left to cancel, so no finalizer (a namespace deletion never waits for the operator).
    await wait_for(lambda: not get_va(cluster.kube, ns, "pan")["metadata"].get("finalizers"), what="no finalizer")


async def test_zones_and_lines_applied_by_hand_are_counted_in_the_status(
    cluster: ClusterDriver, signup_user: Any, tmp_path: Path
) -> None:
    """`spec.zones` and `spec.lines` as a person writes them: the CRD takes them, the job counts
    the panning face in a zone over the whole frame, and the status carries the totals (the
    schema declares them: nothing is pruned)."""
    cluster.videos_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[attr-defined]
    shutil.copy(pan_video(tmp_path / "pan.mp4", frames=FRAMES).path, cluster.videos_dir / "zones-pan.mp4")  # type: ignore[attr-defined]
    ns = cluster.namespace
    everywhere = {"name": "everywhere", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]], "minFrames": 2}
    gate = {"name": "gate", "start": [0.5, 0], "end": [0.5, 1], "labels": ["face"]}
    async with cluster.api() as api:
        owner, headers = await signup_user(api)
        body = manifest(
            ns,
            "zoned",
            owner=owner["user"]["email"],
            videoUri="videos://zones-pan.mp4",
            zones=[everywhere],
            lines=[gate],
        )
        kubectl("apply", "-f", "-", input=body)
        [job] = await wait_for(lambda: jobs(cluster.kube, ns), what="the Job")
        await cluster.run_job(job)
        done = await wait_for(phase_is(cluster.kube, ns, "zoned", "Succeeded"), what="Succeeded")
        task_id = done["status"]["taskId"]
        events = (await api.get(f"/tasks/{task_id}/events/", headers=headers)).json()["events"]
    zone = done["status"]["summary"]["zones"]["everywhere"]["face"]
    assert (zone["entered"], zone["left"], zone["maxInside"]) == (1, 1, 1) and zone["meanDwellSeconds"] > 0
    assert "gate" in done["status"]["summary"]["lines"]
    assert [e["kind"] for e in events if e["rule"] == "everywhere"] == ["entered", "left"]
    assert done["status"]["summary"]["detectionsTotal"] >= FRAMES // 2


async def test_applied_by_hand_with_an_https_uri_is_fetched_by_the_job(
    cluster: ClusterDriver, signup_user: Any, tmp_path: Path, e2e_ca: Any
) -> None:
    www = tmp_path / "www"
    www.mkdir()
    shutil.copy(pan_video(tmp_path / "pan.mp4", frames=FRAMES).path, www / "pan.mp4")
    ns = cluster.namespace
    with https_video_server(www, tmp_path, e2e_ca) as server:
        async with cluster.api() as api:
            owner, headers = await signup_user(api)
            uri = server.url("pan.mp4")
            kubectl(
                "apply",
                "-f",
                "-",
                input=manifest(ns, "remote", owner=owner["user"]["email"], videoUri=uri, frameStride=2),
            )
            [job] = await wait_for(lambda: jobs(cluster.kube, ns), what="the Job")
            env = {e.name: e.value for e in job.spec.template.spec.containers[0].env}
            assert env["VA_VIDEO_URL_ALLOWED_NETWORKS"] == "127.0.0.1"  # the operator's own setting, handed on
            await cluster.run_job(job)
            await wait_for(phase_is(cluster.kube, ns, "remote", "Succeeded"), what="Succeeded")
            task_id = get_va(cluster.kube, ns, "remote")["status"]["taskId"]
            result = (await api.get(f"/tasks/video-analysis-result/{task_id}/", headers=headers)).json()
    assert result["status"] == "SUCCEEDED" and result["video_name"] == "pan.mp4"
    assert result["frames_total"] == FRAMES // 2 == len(result["detections"])
    assert result["summary"]["detections_total"] >= FRAMES // 4
    assert [name for name, _ in server.requests] == ["pan.mp4"]  # one fetch, by the job


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"owner": "nobody-{u}@example.com"}, "is not an account of the API"),
        ({"owner": "{email}", "model": "yolo9000"}, "unknown model 'yolo9000'; known models: "),
        ({"owner": "{email}", "videoUri": "file:///etc/passwd"}, "is outside the videos volume"),
        ({"owner": "{email}", "videoUri": "http://example.com/a.mp4"}, "video_url must be https://"),
    ],
)
async def test_what_the_schema_cannot_check_ends_failed_with_the_reason(
    cluster: ClusterDriver, signup_user: Any, spec: dict[str, str], message: str
) -> None:
    ns = cluster.namespace
    async with cluster.api() as api:
        owner, _ = await signup_user(api)
    fields = {"videoUri": "videos://clip.mp4", **spec}
    fields = {k: v.format(u=uuid.uuid4().hex[:6], email=owner["user"]["email"]) for k, v in fields.items()}
    kubectl("apply", "-f", "-", input=manifest(ns, "bad", **fields))
    va = await wait_for(phase_is(cluster.kube, ns, "bad", "Failed"), what="Failed")
    assert va["status"]["reason"] == "InvalidSpec" and message in va["status"]["message"]
    failed = condition(va, "Failed")
    assert failed is not None and message in failed["message"]
    assert "taskId" not in va["status"] and jobs(cluster.kube, ns) == []
    await wait_for(lambda: not get_va(cluster.kube, ns, "bad")["metadata"].get("finalizers"), what="no finalizer")
    await wait_for(lambda: "InvalidSpec" in event_reasons(cluster.kube, ns, "bad"), what="the InvalidSpec Event")
