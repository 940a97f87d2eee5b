"""Cluster-wide Job defaults (VA_JOB_DEFAULTS) merged under each resource's spec, and the Job's
pod security context: pure tests, then one operator on the test cluster started with them."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from kubernetes import client
from pydantic import ValidationError

from tests.support.operator_process import OperatorProcess, watch_env
from tests.support.resources import container, create_va, jobs, va_body
from tests.support.waits import wait_for
from va_operator.builders import build_job, effective_spec
from va_operator.config import OperatorSettings
from va_operator.defaults import JobDefaults, merge_job_defaults

GPU_TOL = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
TEAM_TOL = {"key": "team", "operator": "Equal", "value": "vision", "effect": "NoSchedule"}
#: What the chart renders from values-gpu.yaml (see charts/videoanalysis/templates/operator-deployment.yaml).
CHART_DEFAULTS = {
    "gpus": 2,
    "activeDeadlineSeconds": 7200,
    "backoffLimit": 3,
    "nodeSelector": {"nvidia.com/gpu.present": "true", "pool": "gpu"},
    "tolerations": [GPU_TOL],
    "resources": {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"cpu": "4", "memory": "16Gi"}},
}


def with_defaults(**kw: object) -> OperatorSettings:
    return OperatorSettings(job_defaults=JobDefaults(**CHART_DEFAULTS), **kw)


def test_env_json_parses_and_fills_an_empty_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VA_JOB_DEFAULTS", json.dumps(CHART_DEFAULTS))
    settings = OperatorSettings()
    job = build_job(va_body(), settings)
    pod = job["spec"]["template"]["spec"]
    assert (job["spec"]["activeDeadlineSeconds"], job["spec"]["backoffLimit"]) == (7200, 3)
    assert container(job)["resources"] == {
        "requests": {"cpu": "2", "memory": "4Gi"},
        "limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "2"},
    }
    assert pod["nodeSelector"] == CHART_DEFAULTS["nodeSelector"] and pod["tolerations"] == [GPU_TOL]


def test_the_resources_own_values_win() -> None:
    spec = {
        "gpus": 0,
        "activeDeadlineSeconds": 60,
        "backoffLimit": 0,
        "nodeSelector": {"pool": "cpu"},
        "tolerations": [TEAM_TOL],
        "resources": {"limits": {"memory": "2Gi"}},
    }
    job = build_job(va_body(**spec), with_defaults())
    pod = job["spec"]["template"]["spec"]
    assert (job["spec"]["activeDeadlineSeconds"], job["spec"]["backoffLimit"]) == (60, 0)
    # nodeSelector: key by key, the resource's key wins, the other default keys stay.
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true", "pool": "cpu"}
    # tolerations: union, the defaults first.
    assert pod["tolerations"] == [GPU_TOL, TEAM_TOL]
    # resources: per section and name; gpus=0 adds no GPU limit.
    assert container(job)["resources"] == {
        "requests": {"cpu": "2", "memory": "4Gi"},
        "limits": {"cpu": "4", "memory": "2Gi"},
    }


def test_without_defaults_the_builtin_fallbacks_apply() -> None:
    spec = effective_spec({"taskId": "t", "videoUri": "videos://a.mp4"})
    assert (spec["gpus"], spec["activeDeadlineSeconds"], spec["backoffLimit"]) == (1, 3600, 2)
    # The analysis parameters are not the Job's business: the task row's snapshot holds them.
    assert "model" not in spec and "nodeSelector" not in spec


def test_merge_is_pure_and_drops_duplicate_tolerations() -> None:
    own = {"tolerations": [GPU_TOL, TEAM_TOL], "nodeSelector": None, "gpus": 1}
    defaults = JobDefaults(**CHART_DEFAULTS)
    before = (copy.deepcopy(own), defaults.model_dump())
    merged = merge_job_defaults(own, defaults)
    assert merged["tolerations"] == [GPU_TOL, TEAM_TOL] and merged["gpus"] == 1
    assert merged["nodeSelector"] == CHART_DEFAULTS["nodeSelector"]  # null counts as unset
    assert (own, defaults.model_dump()) == before
    assert merge_job_defaults(own, None) == {"tolerations": [GPU_TOL, TEAM_TOL], "gpus": 1}


@pytest.mark.parametrize(
    "bad, field",
    [
        ('{"gpu": 1}', "gpu"),
        ('{"backoffLimit": -1}', "backoffLimit"),
        ('{"nodeSelector": ["a"]}', "nodeSelector"),
        ("not json", "job_defaults"),
    ],
)
def test_bad_job_defaults_name_the_variable(monkeypatch: pytest.MonkeyPatch, bad: str, field: str) -> None:
    monkeypatch.setenv("VA_JOB_DEFAULTS", bad)
    with pytest.raises(ValueError, match=field):
        OperatorSettings()


def test_job_defaults_refuse_unknown_keys_in_code_too() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        JobDefaults(gpuCount=1)  # type: ignore[call-arg]


@pytest.mark.parametrize("version", ["1.34.0", "1.37.0"])
def test_job_pod_runs_restricted(version: str) -> None:
    job = build_job(va_body(), with_defaults())
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    sc = container(job)["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True and pod["automountServiceAccountToken"] is False
    kubernetes_validate.validate(job, version, strict=True)


@pytest.mark.kubernetes
async def test_the_running_operator_applies_the_charts_job_defaults(
    db: str,
    k8s_cluster: Any,
    kube_api: client.ApiClient,
    make_task: Any,
    tmp_path: Path,
) -> None:
    """An operator started with the chart's VA_JOB_DEFAULTS builds Jobs with them (its own
    namespace, so the session operator does not also handle the resource)."""
    ns = f"va-jd-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(kube_api).create_namespace({"metadata": {"name": ns}})
    proc = OperatorProcess(watch_env(db, [ns], VA_JOB_DEFAULTS=json.dumps(CHART_DEFAULTS)), tmp_path / "op.log")
    try:
        proc.start()
        create_va(kube_api, await make_task(namespace=ns), ns, tolerations=[TEAM_TOL], nodeSelector={"pool": "a100"})
        [job] = await wait_for(lambda: jobs(kube_api, ns), what="the Job")
        pod = job.spec.template.spec
        assert (job.spec.active_deadline_seconds, job.spec.backoff_limit) == (7200, 3)
        assert pod.containers[0].resources.limits == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "2"}
        assert pod.node_selector == {"nvidia.com/gpu.present": "true", "pool": "a100"}
        assert [t.key for t in pod.tolerations] == ["nvidia.com/gpu", "team"]
        assert pod.security_context.seccomp_profile.type == "RuntimeDefault"
    finally:
        proc.stop()
        client.CoreV1Api(kube_api).delete_namespace(ns)
