"""The operator starts one way, `python -m va_operator.launcher`: the image's CMD, the chart's
command (with or without leader election) and the tests' operator processes
(tests/support/operator_process.py) all run it, and the environment the chart gives it is what
starts Kopf in the release namespace with the probed liveness endpoint."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.cluster import create_namespace
from tests.support.helm import NAMESPACE, Manifest, container_env, one, pod_spec, render
from tests.support.operator_process import OperatorProcess
from tests.support.paths import ROOT
from tests.support.tasks import api_task
from tests.support.waits import wait_for
from va_operator import launcher
from videoanalysis.k8s import names
from videoanalysis.k8s.resource import build_videoanalysis

DOCKERFILE = ROOT / "operator" / "Dockerfile"
MODES = {"standalone": (), "leader election": ("--set", "operator.replicas=2")}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The operator Dockerfile's (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = (line.strip() for line in text.splitlines())
    return [
        (w.upper(), rest.strip()) for w, _, rest in (line.partition(" ") for line in lines if line and line[0] != "#")
    ]


def image_cmd() -> list[str]:
    """The image's CMD, in exec form (a JSON list)."""
    return json.loads([args for word, args in dockerfile_instructions() if word == "CMD"][-1])


def image_env() -> dict[str, str]:
    return dict(
        pair.split("=", 1) for word, args in dockerfile_instructions() if word == "ENV" for pair in shlex.split(args)
    )


def operator_container(docs: list[Manifest]) -> Manifest:
    return pod_spec(one(docs, "Deployment", "-operator"))["containers"][0]


def probed_liveness(container: Manifest) -> str:
    """The liveness URL the kubelet probes, as the operator must serve it (all interfaces)."""
    probe = container["livenessProbe"]["httpGet"]
    port = next(p["containerPort"] for p in container["ports"] if p["name"] == probe["port"])
    return f"http://0.0.0.0:{port}{probe['path']}"


@dataclass
class Started:
    args: list[str]
    elected: bool


def launched(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Started:
    """What `python -m va_operator.launcher` starts with `env` (its plain values) and nothing else."""
    started: list[Started] = []
    with monkeypatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("VA_")]:  # only what `env` says
            patch.delenv(name)
        for name, value in env.items():
            if name.startswith("VA_") and not isinstance(value, dict):  # not the Secret's
                patch.setenv(name, value)
        patch.setenv("VA_DATABASE_URL", "postgres://u:p@db:5432/videoanalysis")
        patch.setenv("VA_DATA_DIR", str(tmp_path))
        patch.setattr(launcher, "run_kopf", lambda args: started.append(Started(args, elected=False)))
        patch.setattr(launcher, "run_elected", lambda _, args: started.append(Started(args, elected=True)))
        launcher.main()
    assert len(started) == 1
    return started[0]


def kopf_args(namespace: str, liveness: str) -> list[str]:
    return [
        "kopf",
        "run",
        "-m",
        "va_operator.handlers",
        "--namespace",
        namespace,
        "--standalone",
        "--liveness",
        liveness,
    ]


@pytest.mark.parametrize("mode", MODES)
def test_the_chart_runs_the_images_command_as_the_test_operators_do(mode: str, tmp_path: Path) -> None:
    command = operator_container(render(*MODES[mode]))["command"]
    assert command == image_cmd() == ["python", "-m", "va_operator.launcher"]
    fixture = OperatorProcess({}, tmp_path / "operator.log")  # what running_operator starts
    assert fixture.command == [sys.executable, *command[1:]]


@pytest.mark.parametrize("mode", MODES)
def test_the_charts_env_starts_kopf_in_the_release_namespace_with_the_probed_liveness(
    mode: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    container = operator_container(render(*MODES[mode]))
    env = container_env(container)
    liveness = probed_liveness(container)
    assert env["VA_KUBE_NAMESPACE"] == NAMESPACE and env["VA_LIVENESS_ENDPOINT"] == liveness
    started = launched(env, monkeypatch, tmp_path)
    assert started.args == kopf_args(NAMESPACE, liveness)
    assert started.elected == (mode == "leader election")


def test_the_images_own_env_starts_kopf_standalone_with_its_healthcheck(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = image_env()
    healthcheck = next(args for word, args in dockerfile_instructions() if word == "HEALTHCHECK")
    assert env["VA_LIVENESS_ENDPOINT"].replace("0.0.0.0", "127.0.0.1") in healthcheck
    started = launched(env, monkeypatch, tmp_path)
    assert started == Started(kopf_args("default", env["VA_LIVENESS_ENDPOINT"]), elected=False)


@pytest.mark.parametrize("mode", MODES)
async def test_the_test_operator_started_with_the_charts_env_handles_its_namespace(
    mode: str, db: str, kube_api: client.ApiClient, tmp_path: Path
) -> None:
    """The chart's env, pointed at a namespace of the test cluster (not the session operator's
    `va-t-*`) and the test database; the fixture picks free ports for liveness and metrics."""
    chart_env = container_env(operator_container(render(*MODES[mode])))
    env = {k: v for k, v in chart_env.items() if k.startswith("VA_") and not isinstance(v, dict)}
    ns = create_namespace(kube_api, "va-s-", db)
    env |= {"VA_KUBE_NAMESPACE": ns, "VA_DATABASE_URL": db}
    if "VA_LEADER_ELECTION_NAMESPACE" in env:
        env["VA_LEADER_ELECTION_NAMESPACE"] = ns
    proc = OperatorProcess(env, tmp_path / "operator.log")
    try:
        proc.start()
        body = build_videoanalysis(await api_task(ns), ns)
        custom = client.CustomObjectsApi(kube_api)
        resource = custom.create_namespaced_custom_object(names.GROUP, names.VERSION, ns, names.PLURAL, body)
        uid = resource["metadata"]["uid"]

        def job_made() -> bool:
            jobs = client.BatchV1Api(kube_api).list_namespaced_job(ns).items
            return any(o.uid == uid for j in jobs for o in j.metadata.owner_references or [])

        try:
            await wait_for(job_made, what=f"the Job of {resource['metadata']['name']}")
        except TimeoutError as exc:
            raise AssertionError(f"{exc}; the operator's log:\n{proc.log_tail()}") from exc
        if mode == "leader election":
            lease = client.CoordinationV1Api(kube_api).read_namespaced_lease(env["VA_LEADER_ELECTION_LEASE"], ns)
            assert proc.proc is not None and f"-{proc.proc.pid}-" in lease.spec.holder_identity
    finally:
        proc.stop()
        client.CoreV1Api(kube_api).delete_namespace(ns)
