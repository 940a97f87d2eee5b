"""Pure builders, settings and the launcher's command line: no cluster needed."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from va_operator.builders import JOB_FALLBACKS, SpecError, build_job
from va_operator.config import OperatorSettings
from va_operator.launcher import kopf_run_args
from va_operator.reconcile import owned_job
from videoanalysis.k8s import names
from videoanalysis.k8s.crd import IDENTITY_FIELDS, crd_properties, crd_root_validations, crd_spec_validations
from videoanalysis.k8s.resource import build_videoanalysis
from videoanalysis.models import Task

CRD = Path(__file__).resolve().parents[2] / "crds" / "videoanalysis.yaml"
TASK_ID = "123e4567-e89b-12d3-a456-426614174000"


def va_body(**spec: object) -> dict:
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {"name": f"va-{TASK_ID}", "namespace": "team-a", "uid": "uid-1"},
        "spec": {"taskId": TASK_ID, "videoUri": "videos://a.mp4", "model": "opencv-face", **spec},
        "status": {"taskId": TASK_ID},
    }


def settings(**kw: object) -> OperatorSettings:
    return OperatorSettings(**kw)


def container(job: dict) -> dict:
    return job["spec"]["template"]["spec"]["containers"][0]


def test_videoanalysis_from_task() -> None:
    task = Task(
        id=uuid.UUID(TASK_ID),
        model="opencv-face",
        video_uri="videos://k.mp4",
        params={"score_threshold": 0.7, "frame_stride": 3, "labels": ["face"]},
    )
    body = build_videoanalysis(task, "team-a")
    assert body["metadata"] == {
        "name": f"va-{TASK_ID}",
        "namespace": "team-a",
        "labels": {names.LABEL_TASK: TASK_ID, names.LABEL_NAME: "videoanalysis"},
    }
    assert body["spec"] == {
        "taskId": TASK_ID,
        "videoUri": "videos://k.mp4",
        "model": "opencv-face",
        "scoreThreshold": 0.7,
        "frameStride": 3,
        "labels": ["face"],
        "tracker": "ocsort",  # the contract's default, spelled out
    }


def test_a_presigned_urls_signature_stays_out_of_the_resource() -> None:
    """The resource lands in etcd and in every `kubectl get -o yaml`: its spec shows the video
    URL without query, fragment or credentials (the job reads the whole URL from the row)."""
    url = "https://reader:pw@bucket.s3.example.com/clips/k.mp4?X-Amz-Credential=AKIA&X-Amz-Signature=abc#t=2"
    task = Task(id=uuid.UUID(TASK_ID), model="opencv-face", video_uri=url, params={})
    spec = build_videoanalysis(task, "team-a")["spec"]
    assert spec["videoUri"] == "https://bucket.s3.example.com/clips/k.mp4"
    assert "X-Amz" not in json.dumps(spec) and "pw" not in json.dumps(spec)


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
        {"action": "FailJob", "onExitCodes": {"containerName": "inference", "operator": "In", "values": [2, 3]}},
        {"action": "Ignore", "onExitCodes": {"containerName": "inference", "operator": "In", "values": [4, 75]}},
    ]
    assert job["metadata"]["labels"][names.LABEL_KUEUE_QUEUE] == "gpu-queue"


def test_cpu_job_has_no_gpu_limit_or_toleration() -> None:
    job = build_job(va_body(gpus=0), settings())
    assert "nvidia.com/gpu" not in container(job)["resources"].get("limits", {})
    assert "tolerations" not in job["spec"]["template"]["spec"]


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
    ],
)
def test_specs_that_can_never_run_are_refused(spec: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        build_job(va_body(**spec), settings())


def test_long_names_stay_within_limits() -> None:
    name = names.job_name("va-" + "x" * 80)
    assert len(name) <= 52 and name == names.job_name("va-" + "x" * 80)
    assert name != names.job_name("va-" + "x" * 79 + "y")


@pytest.mark.parametrize("version", ["1.34.0", "1.37.0"])
def test_job_validates_strictly_against_current_schemas(version: str) -> None:
    job = build_job(
        va_body(gpus=1, nodeSelector={"a": "b"}, resources={"limits": {"cpu": "2"}}),
        settings(runtime_class_name="nvidia", service_account_name="inference"),
    )
    kubernetes_validate.validate(job, version, strict=True)


def test_crd_validates_and_defaults_match_the_builder() -> None:
    crd = yaml.safe_load(CRD.read_text())
    kubernetes_validate.validate(crd, "1.37.0", strict=True)
    assert crd["metadata"]["name"] == names.CRD_NAME
    assert crd["spec"]["names"]["shortNames"] == [names.SHORT_NAME]
    version = crd["spec"]["versions"][0]
    props = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    # Left unset by the API server so the operator's VA_JOB_DEFAULTS can fill them in.
    assert not [k for k in JOB_FALLBACKS if "default" in props[k]]
    assert [c["name"] for c in version["additionalPrinterColumns"] if not c.get("priority")] == [
        "Phase",
        "Progress",
        "Detections",
        "Objects",
        "Model",
        "Age",
    ]
    assert "default" not in props["model"] and "enum" not in props["model"]


@pytest.mark.parametrize("path", [CRD, CRD.parents[1] / "charts" / "videoanalysis" / "crds" / "videoanalysis.yaml"])
def test_crd_parameters_are_the_contracts(path: Path) -> None:
    """The CRD's analysis parameters are exactly what the one contract generates (bounds,
    defaults, descriptions), in both copies, and `taskId` is optional."""
    spec = yaml.safe_load(path.read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    generated = crd_properties()
    assert {k: spec["properties"][k] for k in generated} == generated
    assert spec["required"] == ["videoUri"]
    assert set(generated) == {"model", "scoreThreshold", "frameStride", "labels", "batchSize", "tracker"}


@pytest.mark.parametrize("path", [CRD, CRD.parents[1] / "charts" / "videoanalysis" / "crds" / "videoanalysis.yaml"])
def test_crd_rules_are_the_generated_ones(path: Path) -> None:
    """Both copies carry exactly the generated CEL rules: the identity fields (spec fields, no
    parameter among them) fixed at creation, and the name the API gives a task's resource."""
    root = yaml.safe_load(path.read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    spec = root["properties"]["spec"]
    assert root["x-kubernetes-validations"] == crd_root_validations()
    assert spec["x-kubernetes-validations"] == crd_spec_validations()
    assert set(IDENTITY_FIELDS) <= set(spec["properties"]) and not set(IDENTITY_FIELDS) & set(crd_properties())
    # What the root rule spells in CEL (`prefix + taskId.lowerAscii()`) is the API's name.
    assert names.resource_name(TASK_ID.upper()) == names.resource_name("") + TASK_ID


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
