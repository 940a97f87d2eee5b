"""Pure builders of the operator (the Job, its Pod), its settings and the launcher's command
line: no cluster needed."""

from __future__ import annotations

import copy
import json
from typing import Any

import kubernetes_validate
import pytest

from tests.support.resources import TASK_ID, container, va_body
from va_operator.builders import SpecError, build_job, job_labels
from va_operator.config import OperatorSettings
from va_operator.job_pod import OPERATOR_LABELS, JobPod, reserved_label_keys
from va_operator.kube_io import owned_job
from va_operator.launcher import kopf_run_args
from videoanalysis.k8s import names


def settings(**kw: object) -> OperatorSettings:
    return OperatorSettings(**kw)


def test_job_is_deterministic_and_owned() -> None:
    job = owned_job(va_body(), settings())
    assert job == owned_job(copy.deepcopy(va_body()), settings())
    meta = job["metadata"]
    assert meta["name"] == f"va-{TASK_ID}" and meta["namespace"] == "team-a"
    assert meta["ownerReferences"] == [
        {
            "apiVersion": names.API_VERSION,
            "kind": names.KIND,
            "name": f"va-{TASK_ID}",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert meta["labels"][names.LABEL_TASK] == TASK_ID
    assert job["spec"]["template"]["metadata"]["labels"][names.LABEL_RESOURCE] == f"va-{TASK_ID}"
    assert container(job)["command"] == ["python", "-m", "inference_job", "--task-id", TASK_ID]


def test_job_scheduling_knobs() -> None:
    tol = {"key": "team", "operator": "Equal", "value": "vision", "effect": "NoSchedule"}
    job = build_job(
        va_body(
            gpus=2,
            nodeSelector={"gpu": "a100"},
            tolerations=[tol],
            activeDeadlineSeconds=600,
            backoffLimit=4,
            resources={"requests": {"memory": "4Gi"}},
        ),
        settings(runtime_class_name="nvidia", kueue_queue="gpu-queue", job_image="reg/inf:1.2"),
    )
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    assert container(job)["resources"] == {"requests": {"memory": "4Gi"}, "limits": {"nvidia.com/gpu": "2"}}
    assert container(job)["image"] == "reg/inf:1.2"
    assert pod["nodeSelector"] == {"gpu": "a100"}
    assert (
        tol in pod["tolerations"]
        and {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    )
    assert pod["runtimeClassName"] == "nvidia" and pod["restartPolicy"] == "Never"
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (4, 600)
    assert spec["ttlSecondsAfterFinished"] == 86400
    assert spec["podFailurePolicy"]["rules"] == [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        {"action": "FailJob", "onExitCodes": {"containerName": "inference", "operator": "In", "values": [2, 3, 5]}},
        {"action": "Ignore", "onExitCodes": {"containerName": "inference", "operator": "In", "values": [4, 75]}},
    ]
    assert job["metadata"]["labels"][names.LABEL_KUEUE_QUEUE] == "gpu-queue"


def test_cpu_job_has_no_gpu_limit_or_toleration() -> None:
    job = build_job(va_body(gpus=0), settings())
    assert "nvidia.com/gpu" not in container(job)["resources"].get("limits", {})
    assert "tolerations" not in job["spec"]["template"]["spec"]


#: Every field of VA_JOB_POD set, as the chart renders it.
SHAPED_POD: dict[str, Any] = {
    "imagePullSecrets": ["regcred", "mirror-creds"],
    "priorityClassName": "gpu-high",
    "kueuePriorityClass": "interactive",
    "podAnnotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"},
    "podLabels": {"team": "vision", "cost-center": "cv-42"},
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "nvidia.com/gpu.product", "operator": "In", "values": ["H100"]}]}
                ]
            }
        }
    },
    "extraVolumes": [{"name": "weights", "persistentVolumeClaim": {"claimName": "model-weights", "readOnly": True}}],
    "extraVolumeMounts": [{"name": "weights", "mountPath": "/opt/models", "readOnly": True}],
    "tmpSizeLimit": "12Gi",
    "ephemeralStorageRequest": "10Gi",
    "gpuResourceName": "nvidia.com/gpu",
}


def test_job_pod_defaults_bound_tmp_and_add_nothing_else() -> None:
    job = build_job(va_body(), settings())
    template, pod = job["spec"]["template"], job["spec"]["template"]["spec"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "8Gi"}} in pod["volumes"]
    assert template["metadata"] == {"labels": job["metadata"]["labels"]}
    assert not {"imagePullSecrets", "priorityClassName", "affinity"} & set(pod)
    assert "ephemeral-storage" not in container(job)["resources"].get("requests", {})
    assert names.LABEL_KUEUE_QUEUE not in job["metadata"]["labels"]


def test_job_pod_from_the_environment_shapes_every_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VA_JOB_POD", json.dumps(SHAPED_POD))
    monkeypatch.setenv("VA_KUEUE_QUEUE", "gpu-queue")
    job = build_job(va_body(), OperatorSettings())
    template, pod = job["spec"]["template"], job["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "regcred"}, {"name": "mirror-creds"}]
    assert pod["priorityClassName"] == "gpu-high"
    assert pod["affinity"] == SHAPED_POD["affinity"]
    assert job["metadata"]["labels"]["kueue.x-k8s.io/priority-class"] == "interactive"
    assert template["metadata"]["labels"] == {**SHAPED_POD["podLabels"], **job["metadata"]["labels"]}
    assert template["metadata"]["annotations"] == SHAPED_POD["podAnnotations"]
    assert pod["volumes"][-1] == SHAPED_POD["extraVolumes"][0]
    assert container(job)["volumeMounts"][-1] == SHAPED_POD["extraVolumeMounts"][0]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "12Gi"}} in pod["volumes"]
    assert container(job)["resources"]["requests"]["ephemeral-storage"] == "10Gi"
    assert job == build_job(va_body(), OperatorSettings())  # deterministic
    kubernetes_validate.validate(job, "1.34.0", strict=True)


def test_gpu_resource_name_sets_the_limit_and_the_toleration() -> None:
    amd = settings(job_pod=JobPod(gpuResourceName="amd.com/gpu"))
    job = build_job(va_body(gpus=2), amd)
    assert container(job)["resources"]["limits"] == {"amd.com/gpu": "2"}
    assert job["spec"]["template"]["spec"]["tolerations"] == [
        {"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    own = {"key": "amd.com/gpu", "operator": "Equal", "value": "mi300", "effect": "NoSchedule"}
    assert build_job(va_body(tolerations=[own]), amd)["spec"]["template"]["spec"]["tolerations"] == [own]
    assert "tolerations" not in build_job(va_body(gpus=0), amd)["spec"]["template"]["spec"]


@pytest.mark.parametrize(
    "resources, expected",
    [
        ({}, {"requests": {"ephemeral-storage": "8Gi"}}),
        ({"requests": {"ephemeral-storage": "20Gi"}}, {"requests": {"ephemeral-storage": "20Gi"}}),
        # A limit alone is the request too (Kubernetes copies it): a second, larger request would be refused.
        ({"limits": {"ephemeral-storage": "4Gi"}}, {"limits": {"ephemeral-storage": "4Gi"}}),
    ],
)
def test_the_ephemeral_storage_request_yields_to_the_specs_own(resources: dict, expected: dict) -> None:
    job = build_job(va_body(gpus=0, resources=resources), settings(job_pod=JobPod(ephemeralStorageRequest="8Gi")))
    assert container(job)["resources"] == expected


def test_every_label_the_operator_sets_is_refused_in_pod_labels() -> None:
    """The operator, the NetworkPolicies and Kueue find Jobs and Pods by these labels: a Pod label
    is never allowed to take one over (refused at start, not silently dropped)."""
    queued = settings(kueue_queue="gpu-queue", job_pod=JobPod(kueuePriorityClass="interactive"))
    own = job_labels("va-x", TASK_ID, queued)
    assert set(own) <= OPERATOR_LABELS and reserved_label_keys(own) == sorted(own)
    for key in [*own, f"{names.GROUP}/anything"]:
        with pytest.raises(ValueError, match=r"the operator sets .* itself"):
            JobPod(podLabels={key: "mine"})


@pytest.mark.parametrize(
    "job_pod, message",
    [
        ({"extraVolumes": [{"name": "tmp", "emptyDir": {}}]}, r"the operator's own volumes are named"),
        ({"extraVolumes": [{"name": "w", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]}, "more than once"),
        ({"extraVolumes": [{"emptyDir": {}}]}, "entries need a name"),
        ({"extraVolumeMounts": [{"name": "w", "mountPath": "/w"}]}, "extraVolumes lacks"),
        (
            {"extraVolumes": [{"name": "w", "emptyDir": {}}], "extraVolumeMounts": [{"name": "w"}]},
            "without a mountPath",
        ),
        ({"imagePullSecrets": ["Reg_Cred"]}, "must be Secret names"),
        ({"priorityClassName": "High Priority"}, "not a PriorityClass name"),
        ({"tmpSizeLimit": "8gb"}, "not a Kubernetes quantity"),
        ({"ephemeralStorageRequest": "400m"}, "must be more than zero"),
        ({"gpuResourceName": "gpu"}, "not an extended resource name"),
        ({"podAnnotations": {"bad key!": "x"}}, "annotation keys must be"),
        ({"podLabels": {"team": "not a value"}}, "label values must be"),
        ({"affinity": {"nodeAfinity": {}}}, "Extra inputs are not permitted"),
        ({"pullSecrets": ["regcred"]}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_job_pod_setting_stops_the_operator_naming_it(
    monkeypatch: pytest.MonkeyPatch, job_pod: dict, message: str
) -> None:
    monkeypatch.setenv("VA_JOB_POD", json.dumps(job_pod))
    with pytest.raises(ValueError, match=message) as refused:
        OperatorSettings()
    assert "job_pod" in str(refused.value)


def test_the_job_pod_must_fit_the_operators_other_settings() -> None:
    with pytest.raises(ValueError, match=r"tmpSizeLimit 2Gi \(2 GiB\) is below VA_VIDEO_URL_MAX_BYTES \(4 GiB\)"):
        settings(job_pod=JobPod(tmpSizeLimit="2Gi"))
    assert settings(job_pod=JobPod(tmpSizeLimit="2Gi"), video_url_max_bytes=2 * 1024**3)
    assert settings(job_pod=JobPod(tmpSizeLimit=""))  # unbounded
    weights = {"name": "w", "emptyDir": {}}
    for path, extra in (("/data/videos", {}), ("/tmp", {}), ("/etc/ca.pem", {"ca_bundle": "/etc/ca.pem"})):
        clash = JobPod(extraVolumes=[weights], extraVolumeMounts=[{"name": "w", "mountPath": path}])
        with pytest.raises(ValueError, match="paths the operator mounts itself"):
            settings(job_pod=clash, ca_bundle_config_map="corp-ca" if extra else "", **extra)


def test_database_url_comes_from_a_secret_and_videos_from_the_pvc() -> None:
    job = build_job(
        va_body(),
        settings(
            database_secret_name="db",
            database_secret_key="dsn",
            videos_pvc="videos",
            videos_mount_path="/videos",
            job_env={"VA_MODEL_WEIGHTS": "/w.pkl", "VA_DATABASE_URL": "x"},
        ),
    )
    env = {e["name"]: e for e in container(job)["env"]}
    assert env["VA_DATABASE_URL"] == {
        "name": "VA_DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "db", "key": "dsn"}},
    }
    assert env["VA_VIDEOS_DIR"]["value"] == "/videos" and env["VA_MODEL_WEIGHTS"]["value"] == "/w.pkl"
    assert {"name": "videos", "persistentVolumeClaim": {"claimName": "videos", "readOnly": True}} in job["spec"][
        "template"
    ]["spec"]["volumes"]


def test_ca_bundle_config_map_is_mounted_as_the_file_the_job_reads() -> None:
    job = build_job(va_body(), settings(ca_bundle="/etc/videoanalysis/ca.pem", ca_bundle_config_map="corp-ca"))
    pod = job["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in container(job)["env"]}
    assert env["VA_CA_BUNDLE"] == "/etc/videoanalysis/ca.pem"
    assert {"name": "ca-bundle", "mountPath": "/etc/videoanalysis/ca.pem", "subPath": "ca.pem", "readOnly": True} in (
        container(job)["volumeMounts"]
    )
    assert {"name": "ca-bundle", "configMap": {"name": "corp-ca", "items": [{"key": "ca.crt", "path": "ca.pem"}]}} in (
        pod["volumes"]
    )
    kubernetes_validate.validate(job, "1.34.0", strict=True)
    plain = build_job(va_body(), settings(ca_bundle="/etc/videoanalysis/ca.pem"))  # a CA in the image
    assert all(v["name"] != "ca-bundle" for v in plain["spec"]["template"]["spec"]["volumes"])
    with pytest.raises(ValueError, match="VA_CA_BUNDLE_CONFIG_MAP needs VA_CA_BUNDLE"):
        settings(ca_bundle_config_map="corp-ca")


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"gpus": 9}, "exceeds the operator's limit of 8"),
        (
            {"gpus": 4, "shards": 4},
            r"spec\.shards=4 × spec\.gpus=4 = 16 GPUs exceeds the operator's limit of 8 \(VA_MAX_GPUS_PER_JOB\)",
        ),
        ({"gpus": 0, "shards": 17}, r"spec\.shards=17 exceeds the operator's limit of 16 \(VA_MAX_SHARDS\)"),
        ({"shards": "auto"}, "spec.shards: auto is resolved by the API for an uploaded video; give a number"),
    ],
)
def test_specs_that_can_never_run_are_refused(spec: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        build_job(va_body(**spec), settings())


def test_sharded_job_is_indexed_one_pod_per_shard() -> None:
    job = build_job(va_body(gpus=2, shards=4, backoffLimit=3), settings())
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert (spec["completions"], spec["parallelism"]) == (4, 4)
    # A shard's crash retries that shard; one out of retries fails the Job (the merge needs all).
    assert (spec["backoffLimitPerIndex"], spec["maxFailedIndexes"]) == (3, 0)
    assert "backoffLimit" not in spec
    assert spec["podFailurePolicy"] == build_job(va_body(), settings())["spec"]["podFailurePolicy"]
    assert container(job)["command"][-4:] == ["--task-id", TASK_ID, "--shards", "4"]
    assert container(job)["resources"]["limits"] == {"nvidia.com/gpu": "2"}  # per Pod
    assert "annotations" not in job["metadata"]  # no Kueue


def test_one_shard_is_the_plain_job() -> None:
    assert build_job(va_body(shards=1), settings()) == build_job(va_body(), settings())
    assert "completionMode" not in build_job(va_body(shards=1), settings())["spec"]


def test_sharded_job_under_kueue_may_be_admitted_in_waves() -> None:
    kueue = settings(kueue_queue="gpu-queue")
    job = build_job(va_body(shards=4), kueue)
    assert job["metadata"]["annotations"] == {"kueue.x-k8s.io/job-min-parallelism": "1"}
    assert "annotations" not in build_job(va_body(), kueue)["metadata"]


def test_shard_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VA_MAX_SHARDS", "2")
    with pytest.raises(SpecError, match=r"spec\.shards=3 exceeds the operator's limit of 2"):
        build_job(va_body(gpus=1, shards=3), OperatorSettings())
    monkeypatch.setenv("VA_MAX_SHARDS", "65")
    with pytest.raises(ValueError, match="max_shards"):
        OperatorSettings()


@pytest.mark.parametrize("version", ["1.34.0", "1.37.0"])
def test_sharded_job_validates_strictly(version: str) -> None:
    job = build_job(va_body(gpus=1, shards=3), settings(kueue_queue="gpu-queue"))
    kubernetes_validate.validate(job, version, strict=True)


@pytest.mark.parametrize("version", ["1.34.0", "1.37.0"])
def test_job_validates_strictly_against_current_schemas(version: str) -> None:
    job = build_job(
        va_body(gpus=1, nodeSelector={"a": "b"}, resources={"limits": {"cpu": "2"}}),
        settings(runtime_class_name="nvidia", service_account_name="inference"),
    )
    kubernetes_validate.validate(job, version, strict=True)


def test_job_needs_the_task_id_in_status_and_ignores_the_spec_one() -> None:
    body = va_body()
    body["spec"]["taskId"] = "00000000-0000-0000-0000-000000000000"  # an edit after the start
    assert container(build_job(body, settings()))["command"][-1] == TASK_ID
    del body["status"]
    with pytest.raises(SpecError, match=r"status\.taskId is not set"):
        build_job(body, settings())


def test_settings_drive_kopf_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VA_KUBE_NAMESPACE", "videos")
    args = kopf_run_args(OperatorSettings(), "handlers")
    assert args == ["kopf", "run", "-m", "handlers", "--namespace", "videos", "--standalone"]
    monkeypatch.setenv("VA_WATCH_NAMESPACES", '["*"]')
    monkeypatch.setenv("VA_PEERING_NAME", "va")
    assert kopf_run_args(OperatorSettings(), "handlers")[4:] == ["--all-namespaces", "--peering", "va"]


def test_bad_operator_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VA_POSTING_LEVEL", "LOUD")
    with pytest.raises(ValueError, match="posting_level"):
        OperatorSettings()
