"""Registry credentials reach every Pod: the ones the chart renders, and the analysis Jobs the
operator builds from its rendered settings (chart -> VA_JOB_POD -> `build_job`), with the rest
of `job.*`'s Pod shape."""

from __future__ import annotations

import json
from pathlib import Path

import kubernetes_validate
import pytest

from tests.support.helm import VALUES, Manifest, built_job, container_env, find, helm_template, one, pod_spec, render
from va_operator.job_pod import OPERATOR_LABEL_PREFIX, OPERATOR_LABELS

WORKLOADS = ("Deployment", "StatefulSet", "Job", "Pod")
REGCRED = ["--set", "image.pullSecrets[0].name=regcred"]


def pods_without(docs: list[Manifest], secret: str) -> list[str]:
    return [
        f"{d['kind']} {d['metadata']['name']}"
        for d in docs
        if d["kind"] in WORKLOADS and {"name": secret} not in (pod_spec(d).get("imagePullSecrets") or [])
    ]


@pytest.mark.parametrize("values", list(VALUES))
def test_every_pod_and_the_operators_jobs_pull_with_image_pull_secrets(
    values: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    docs = render(*REGCRED, "--set", "postgresql.enabled=true", values=VALUES[values])
    kinds = {d["kind"] for d in docs if d["kind"] in WORKLOADS}
    assert kinds == set(WORKLOADS), kinds  # Deployments, the PostgreSQL StatefulSet, hook Jobs, the test Pod
    assert find(docs, "Job", "-migrate") and find(docs, "Pod", "-test-readyz")
    assert not pods_without(docs, "regcred"), values
    job = built_job(docs, monkeypatch, tmp_path)
    assert job["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "regcred"}]


def test_without_pull_secrets_no_pod_names_any(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    docs = render()
    assert not [d for d in docs if d["kind"] in WORKLOADS and "imagePullSecrets" in pod_spec(d)]
    assert "imagePullSecrets" not in built_job(docs, monkeypatch, tmp_path)["spec"]["template"]["spec"]


def test_job_image_pull_secrets_replace_image_pull_secrets_for_the_jobs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """job.imagePullSecrets is for the analysis Jobs alone (e.g. the inference image in another
    registry): the chart's own Pods keep image.pullSecrets."""
    docs = render(*REGCRED, "--set", "job.imagePullSecrets[0].name=gpu-registry")
    assert not pods_without(docs, "regcred") and pods_without(docs, "gpu-registry")
    job = built_job(docs, monkeypatch, tmp_path)
    assert job["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "gpu-registry"}]


def test_job_pod_values_reach_the_built_job(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "nvidia.com/gpu.product", "operator": "In", "values": ["H100"]}]}
                ]
            }
        }
    }
    weights = {"name": "weights", "persistentVolumeClaim": {"claimName": "model-weights", "readOnly": True}}
    mount = {"name": "weights", "mountPath": "/opt/models", "readOnly": True}
    docs = render(
        "--set", "job.priorityClassName=gpu-high", "--set", "job.kueueQueueName=gpu-queue",
        "--set", "job.kueuePriorityClass=interactive", "--set", "job.podLabels.team=vision",
        "--set", "job.podAnnotations.example\\.com/owner=vision", "--set-json", f"job.affinity={json.dumps(affinity)}",
        "--set-json", f"job.extraVolumes=[{json.dumps(weights)}]",
        "--set-json", f"job.extraVolumeMounts=[{json.dumps(mount)}]",
        "--set", "job.tmpSizeLimit=16Gi", "--set", "job.ephemeralStorageRequest=12Gi",
        "--set", "job.gpuResourceName=amd.com/gpu",
    )  # fmt: skip
    job = built_job(docs, monkeypatch, tmp_path)
    template, pod = job["spec"]["template"], job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["priorityClassName"] == "gpu-high" and pod["affinity"] == affinity
    assert job["metadata"]["labels"]["kueue.x-k8s.io/priority-class"] == "interactive"
    assert template["metadata"]["labels"]["team"] == "vision"
    assert template["metadata"]["annotations"] == {"example.com/owner": "vision"}
    assert weights in pod["volumes"] and mount in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "16Gi"}} in pod["volumes"]
    assert container["resources"]["requests"]["ephemeral-storage"] == "12Gi"
    assert (
        container["resources"]["limits"]["amd.com/gpu"] == "1"
        and "nvidia.com/gpu" not in container["resources"]["limits"]
    )
    assert {"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    kubernetes_validate.validate(job, "1.34.0", strict=True)


def test_the_chart_defaults_bound_the_jobs_tmp_and_request_room_for_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """8Gi of /tmp, requested, and no more than the largest URL video (videoUrls.maxBytes) needs."""
    docs = render()
    job = built_job(docs, monkeypatch, tmp_path)
    pod = job["spec"]["template"]["spec"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "8Gi"}} in pod["volumes"]
    assert pod["containers"][0]["resources"]["requests"]["ephemeral-storage"] == "8Gi"
    env = container_env(pod_spec(one(docs, "Deployment", "-operator"))["containers"][0])
    assert json.loads(env["VA_JOB_POD"])["tmpSizeLimit"] == "8Gi" and int(env["VA_VIDEO_URL_MAX_BYTES"]) <= 8 * 1024**3


def test_the_schema_refuses_what_the_operator_would() -> None:
    """The install fails at once, not with an operator that will not start: the schema refuses
    the operator's own label keys, volume names and mount paths."""
    refused = [
        *(("--set-json", f"job.podLabels={json.dumps({key: 'x'})}") for key in sorted(OPERATOR_LABELS)),
        ("--set-json", f'job.podLabels={{"{OPERATOR_LABEL_PREFIX}resource": "x"}}'),
        ("--set-json", 'job.extraVolumes=[{"name": "tmp", "emptyDir": {}}]'),
        ("--set-json", 'job.extraVolumeMounts=[{"name": "w", "mountPath": "/tmp"}]'),
        ("--set", "job.tmpSizeLimit=8gb"),
        ("--set", "job.gpuResourceName=gpu"),
    ]
    for flag, value in refused:
        done = helm_template(flag, value, check=False)
        assert done.returncode != 0 and "values don't meet the specifications" in done.stderr, value
