"""Each deployable, installed in a fresh venv by its image's recipe, starts and does its job.

Marked `install`: they build a wheel and four venvs (from a local wheel cache), about a minute.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from kubernetes import client

from tests.install.recipe import INSTALL, clean_env, run
from tests.support.accounts import sign_up_sync
from tests.support.api_server import running_api
from tests.support.cluster import create_namespace
from tests.support.operator_process import running_operator
from tests.support.paths import DATA, ROOT
from tests.support.ports import free_port
from videoanalysis.k8s import names
from videoanalysis.k8s.resource import build_videoanalysis
from videoanalysis.tables import FrameDetections, Task, User
from videoanalysis.task_status import TaskStatus

pytestmark = pytest.mark.install
VIDEO = DATA / "astronaut-pan.mp4"


@pytest.fixture(scope="module")
def installed_api(install: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m api` of the `api` install, embedded default (SQLite, local dispatcher), run
    from an empty folder so nothing of the source tree is importable."""
    bin_dir = install("api")
    home = tmp_path_factory.mktemp("api-home")
    env = clean_env(HOST="127.0.0.1", PORT=str(free_port()), VA_DATA_DIR=str(home / "data"))
    with running_api(
        env, home / "api.log", python=bin_dir / "python", cwd=home, ready_path="/readyz", timeout_s=60
    ) as url:
        yield url


def test_installed_api_analyses_a_real_video_through_its_local_dispatcher(installed_api: str) -> None:
    out = run(sys.executable, ROOT / "scripts" / "smoke_client.py", installed_api, VIDEO, "--ready-timeout", "10")
    assert "SUCCEEDED" in out and " 0 detections" not in out


def test_installed_api_refuses_a_model_whose_dependencies_it_lacks(installed_api: str) -> None:
    _, headers = sign_up_sync(installed_api)
    with VIDEO.open("rb") as video:
        resp = httpx.post(
            f"{installed_api}/tasks/video-objects-detection/",
            headers=headers,
            files={"videofile": ("clip.mp4", video, "video/mp4")},
            data={"model": "detectron2"},
        )
    assert resp.status_code == 422
    assert "not installed" in resp.json()["detail"] and "torch" in resp.json()["detail"]


def test_installed_cli_alone_signs_in_and_lists_tasks(
    install: Callable[[str], Path], installed_api: str, tmp_path: Path
) -> None:
    bin_dir = install("cli")
    # The CLI's install holds none of the server: no FastAPI, no Tortoise, no OpenCV.
    run(
        bin_dir / "python",
        "-c",
        "import importlib.util as u, sys; "
        "found = [m for m in ('fastapi', 'tortoise', 'cv2', 'torch') if u.find_spec(m)]; "
        "sys.exit(f'server modules in the CLI install: {found}' if found else 0)",
        cwd=tmp_path,
        env=clean_env(),
    )
    env = clean_env(VA_URL=installed_api, VA_CONFIG_DIR=str(tmp_path / "config"), VA_PASSWORD="cli install pw")
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    cli = bin_dir / "videoanalysis"
    run(cli, "signup", "--email", email, "--first-name", "C", "--last-name", "L", cwd=tmp_path, env=env)
    run(cli, "login", "--email", email, cwd=tmp_path, env=env)
    task = run(cli, "analyze", VIDEO, "--model", "opencv-face", cwd=tmp_path, env=env).strip()
    listed = run(cli, "ls", cwd=tmp_path, env=env)
    assert task[:8] in listed


async def test_installed_job_analyses_a_task_row(install: Callable[[str], Path], db: str, tmp_path: Path) -> None:
    bin_dir = install("job")
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "clip.mp4").write_bytes(VIDEO.read_bytes())
    user = await User.create(email=f"job-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    task = await Task.create(
        owner=user,
        model="opencv-face",
        video_uri="videos://clip.mp4",
        params={"score_threshold": 0.0, "frame_stride": 1},
    )
    env = clean_env(VA_DATABASE_URL=db, VA_VIDEOS_DIR=str(videos), VA_DATA_DIR=str(tmp_path / "data"))
    run(bin_dir / "python", "-m", "inference_job", "--task-id", str(task.id), cwd=tmp_path, env=env)
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED and task.frames_done == task.frames_total > 0
    rows = await FrameDetections.filter(task_id=task.id)
    assert any(o["track_id"] is not None for r in rows for o in r.objects)  # the tracker ran
    # The tracker went in without the GUI OpenCV its wheel asks for: one cv2, the headless one.
    listed = run(bin_dir / "python", "-m", "pip", "list", "--format=freeze", cwd=tmp_path, env=clean_env())
    assert "trackers==" in listed and "opencv-python-headless==" in listed and "opencv-python==" not in listed


async def test_installed_operator_creates_the_job_of_a_resource(
    install: Callable[[str], Path], db: str, kube_api: client.ApiClient, tmp_path: Path
) -> None:
    bin_dir = install("operator")
    namespace = create_namespace(kube_api, "va-inst-", db)
    user = await User.create(email=f"op-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    task = await Task.create(owner=user, model="opencv-face", video_uri="videos://v.mp4", params={})
    body = build_videoanalysis(task, namespace)  # as the API's dispatcher makes it, row bound first
    await Task.filter(id=task.id).update(resource_namespace=namespace, resource_name=body["metadata"]["name"])
    try:
        with running_operator(db, namespace, tmp_path / "operator.log", str(bin_dir / "python"), tmp_path) as operator:
            client.CustomObjectsApi(kube_api).create_namespaced_custom_object(
                names.GROUP, names.VERSION, namespace, names.PLURAL, body
            )
            deadline = time.monotonic() + 30
            job_name = names.job_name(body["metadata"]["name"])
            while not client.BatchV1Api(kube_api).list_namespaced_job(namespace).items:
                assert time.monotonic() < deadline, f"no Job:\n{operator.log_tail()}"
                time.sleep(0.3)
            (job,) = client.BatchV1Api(kube_api).list_namespaced_job(namespace).items
            assert job.metadata.name == job_name
    finally:
        client.CoreV1Api(kube_api).delete_namespace(namespace)


def test_detectron2_extra_resolves(tmp_path: Path, project_wheel: Path) -> None:
    """5 GB of CUDA wheels: the resolution only, with the project's pins."""
    report = tmp_path / "report.json"
    run(INSTALL, "detectron2", "--python", sys.executable, "--source", project_wheel, "--dry-run", report, timeout=900)
    installs = {
        item["metadata"]["name"].lower(): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    assert installs["torch"] == "2.14.1" and installs["torchvision"] == "0.29.1"
    assert {"fvcore", "opencv-python-headless", "tortoise-orm"} <= set(installs)
