"""What the rendered chart grants and runs: RBAC, security contexts, probes, settings names."""

from __future__ import annotations

import json

import pytest
import yaml

from api.config import ApiSettings
from inference_job.config import JobSettings
from tests.support.helm import CHART, Manifest, built_job, container_env, find, helm_template, one, pod_spec, render
from va_operator.config import OperatorSettings
from videoanalysis.k8s import version
from videoanalysis.migrate import MigrateSettings
from videoanalysis.settings import CoreSettings

WORKLOADS = ("Deployment", "StatefulSet", "Job", "Pod")


def _fields(settings: type[CoreSettings]) -> set[str]:
    return {f"VA_{name.upper()}" for name in settings.model_fields}


def _rules(docs: list[Manifest]) -> dict[str, list[Manifest]]:
    return {d["metadata"]["name"]: d["rules"] for d in docs if d["kind"] in ("Role", "ClusterRole")}


def _allows(rules: list[Manifest], group: str, resource: str, verb: str) -> bool:
    return any(group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"] for r in rules)


def test_rbac_least_privilege(renders: dict[str, list[Manifest]]) -> None:
    for name, docs in renders.items():
        # Cluster-wide: only the view/edit aggregation over VideoAnalyses, bound to nobody by the chart.
        assert not find(docs, "ClusterRoleBinding"), name
        for cluster_role in find(docs, "ClusterRole"):
            labels = cluster_role["metadata"]["labels"]
            assert any(k.startswith("rbac.authorization.k8s.io/aggregate-to-") for k in labels), cluster_role
            for rule in cluster_role["rules"]:
                assert rule["apiGroups"] == ["videoanalysis.io"], cluster_role
                assert set(rule["resources"]) <= {"videoanalyses", "videoanalyses/status"}, cluster_role
                assert "videoanalyses/status" not in rule["resources"] or set(rule["verbs"]) <= {"get", "list", "watch"}
        for role, rules in _rules(docs).items():
            for rule in rules:
                for field in ("apiGroups", "resources", "verbs"):
                    assert "*" not in rule[field], (name, role, rule)
                if "secrets" in rule["resources"]:  # only the hook that makes the release's Secret
                    assert role.endswith("-secret-bootstrap"), (name, role, rule)
                    narrowed = rule.get("resourceNames") == ["va-videoanalysis"] and set(rule["verbs"]) <= {
                        "get",
                        "patch",
                    }
                    assert rule["verbs"] == ["create"] or narrowed, (name, role, rule)
        for binding in find(docs, "RoleBinding"):
            assert binding["roleRef"]["name"] not in ("cluster-admin", "admin", "edit")
        api, operator = _rules(docs)["va-videoanalysis-api"], _rules(docs)["va-videoanalysis-operator"]
        for verb in ("create", "get", "delete"):
            assert _allows(api, "videoanalysis.io", "videoanalyses", verb)
        assert not _allows(api, "batch", "jobs", "create") and not _allows(api, "", "pods", "get")
        for verb in ("create", "get", "list", "watch", "delete"):
            assert _allows(operator, "batch", "jobs", verb)
        for verb in ("get", "list", "watch"):
            assert _allows(operator, "", "pods", verb)
        assert not _allows(operator, "", "pods", "create") and not _allows(operator, "", "pods", "delete")
        assert _allows(operator, "videoanalysis.io", "videoanalyses/status", "patch")
        assert _allows(operator, "", "events", "create")
        assert not _allows(operator, "videoanalysis.io", "videoanalyses", "create")


def test_bindings_name_the_components_service_accounts(renders: dict[str, list[Manifest]]) -> None:
    docs = renders["default"]
    accounts = {sa["metadata"]["name"]: sa for sa in find(docs, "ServiceAccount")}
    assert accounts["va-videoanalysis-job"]["automountServiceAccountToken"] is False
    for component in ("api", "operator"):
        binding = one(docs, "RoleBinding", f"-{component}")
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": f"va-videoanalysis-{component}", "namespace": "videoanalysis"}
        ]
        deployment = one(docs, "Deployment", f"-{component}")
        assert pod_spec(deployment)["serviceAccountName"] == f"va-videoanalysis-{component}"


@pytest.mark.parametrize("values", ["default", "values-gpu", "values-dev"])
def test_every_pod_is_non_root_read_only_and_bounded(renders: dict[str, list[Manifest]], values: str) -> None:
    for doc in (d for d in renders[values] if d["kind"] in WORKLOADS):
        spec, where = pod_spec(doc), f"{values}: {doc['kind']} {doc['metadata']['name']}"
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert container["resources"]["limits"] and container["resources"]["requests"], where
            assert not container["image"].endswith(":latest") and ":" in container["image"], where
            assert any(m["mountPath"] == "/tmp" for m in container.get("volumeMounts", [])), where


def test_operator_is_one_recreated_replica_with_kopf_liveness(renders: dict[str, list[Manifest]]) -> None:
    operator = one(renders["default"], "Deployment", "-operator")
    assert operator["spec"]["replicas"] == 1 and operator["spec"]["strategy"] == {"type": "Recreate"}
    container = pod_spec(operator)["containers"][0]
    assert container["command"] == ["python", "-m", "va_operator.launcher"]  # Kopf's options from the env
    env = container_env(container)
    assert env["VA_KUBE_NAMESPACE"] == "videoanalysis"
    assert "VA_PEERING_NAME" not in env and "VA_LEADER_ELECTION_LEASE" not in env  # standalone
    liveness = container["livenessProbe"]["httpGet"]
    port = next(p["containerPort"] for p in container["ports"] if p["name"] == liveness["port"])
    assert env["VA_LIVENESS_ENDPOINT"] == f"http://0.0.0.0:{port}{liveness['path']}"


def test_api_probes_service_and_shared_videos_volume(renders: dict[str, list[Manifest]]) -> None:
    docs = renders["default"]
    api = one(docs, "Deployment", "-api")
    container = pod_spec(api)["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    service = one(docs, "Service", "-api")
    assert service["spec"]["selector"].items() <= api["spec"]["template"]["metadata"]["labels"].items()
    pvc = one(docs, "PersistentVolumeClaim", "-videos")
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    claims = {v["persistentVolumeClaim"]["claimName"] for v in pod_spec(api)["volumes"] if "persistentVolumeClaim" in v}
    assert claims == {pvc["metadata"]["name"]}
    env = container_env(container)
    assert env["VA_VIDEOS_DIR"] == "/data/videos" and env["VA_DISPATCHER"] == "kubernetes"
    operator_env = container_env(pod_spec(one(docs, "Deployment", "-operator"))["containers"][0])
    assert operator_env["VA_VIDEOS_PVC"] == pvc["metadata"]["name"]
    assert operator_env["VA_VIDEOS_MOUNT_PATH"] == env["VA_VIDEOS_DIR"]


def test_operator_replicas_elect_a_leader_through_a_lease_they_alone_may_update(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """Standby replicas: the launcher (leader election) rolls one Pod at a time, and the
    operator's Role may create Leases but update only its own."""
    docs = render("--set", "operator.replicas=2")
    operator = one(docs, "Deployment", "-operator")
    assert operator["spec"]["replicas"] == 2 and operator["spec"]["strategy"]["type"] == "RollingUpdate"
    container = pod_spec(operator)["containers"][0]
    assert container["command"][-2:] == ["-m", "va_operator.launcher"]
    env = container_env(container)
    lease = env["VA_LEADER_ELECTION_LEASE"]
    assert lease == operator["metadata"]["name"]
    with monkeypatch.context() as patch:
        for name, value in env.items():
            if name.startswith("VA_") and not isinstance(value, dict):
                patch.setenv(name, value)
        patch.setenv("VA_DATABASE_URL", "postgres://u:p@db:5432/videoanalysis")
        patch.setenv("VA_DATA_DIR", str(tmp_path))
        settings = OperatorSettings()
    assert settings.leader_election_lease == lease
    rules = [r for role in find(docs, "Role") if role["metadata"]["name"].endswith("-operator") for r in role["rules"]]
    leases = [r for r in rules if "leases" in r.get("resources", [])]
    assert any("create" in r["verbs"] and not r.get("resourceNames") for r in leases)
    assert all(r.get("resourceNames") == [lease] for r in leases if "update" in r["verbs"])


def test_existing_claim_and_secret_are_used_instead_of_new_ones() -> None:
    docs = render(
        "--set",
        "storage.existingClaim=shared-videos",
        "--set",
        "secret.existingSecret=va-creds",
        "--set",
        "postgresql.enabled=false",
    )
    assert not find(docs, "PersistentVolumeClaim") and not find(docs, "Secret") and not find(docs, "StatefulSet")
    api = pod_spec(one(docs, "Deployment", "-api"))
    assert {"name": "videos", "persistentVolumeClaim": {"claimName": "shared-videos"}} in api["volumes"]
    env = container_env(api["containers"][0])
    assert env["VA_SECRET_KEY"]["secretKeyRef"] == {"name": "va-creds", "key": "secret-key"}
    assert env["VA_DATABASE_URL"]["secretKeyRef"] == {"name": "va-creds", "key": "database-url"}
    operator_env = container_env(pod_spec(one(docs, "Deployment", "-operator"))["containers"][0])
    assert operator_env["VA_DATABASE_SECRET_NAME"] == "va-creds"
    assert operator_env["VA_VIDEOS_PVC"] == "shared-videos"


def test_gpu_values_schedule_jobs_on_gpus_with_an_external_database(renders: dict[str, list[Manifest]]) -> None:
    docs = renders["values-gpu"]
    assert not find(docs, "StatefulSet") and not find(docs, "Secret")
    env = container_env(pod_spec(one(docs, "Deployment", "-operator"))["containers"][0])
    assert env["VA_RUNTIME_CLASS_NAME"] == "nvidia" and env["VA_KUEUE_QUEUE"] == "gpu-queue"
    assert env["VA_JOB_IMAGE"] == "registry.example.com/videoanalysis/videoanalysis-job:0.1.0"
    defaults = json.loads(env["VA_JOB_DEFAULTS"])
    assert defaults["gpus"] == 1 and defaults["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert defaults["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert json.loads(env["VA_JOB_ENV"]) == {"VA_MODEL_WEIGHTS": "/opt/models/model_final.pkl", "VA_LEASE_TTL_S": "30"}
    migrate = one(docs, "Job", "-migrate")
    assert migrate["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert one(docs, "Ingress")["spec"]["ingressClassName"] == "traefik"


def test_migrations_run_as_a_hook_before_the_api(renders: dict[str, list[Manifest]]) -> None:
    docs = renders["default"]
    migrate = one(docs, "Job", "-migrate")
    hook = migrate["metadata"]["annotations"]["helm.sh/hook"]
    assert hook == "post-install,pre-upgrade"  # the bundled database is created with the release
    container = pod_spec(migrate)["containers"][0]
    assert container["command"][:3] == ["python", "-m", "videoanalysis.migrate"]
    assert container["image"] == pod_spec(one(docs, "Deployment", "-api"))["containers"][0]["image"]
    bootstrap = one(docs, "Job", "-secret-bootstrap")
    assert bootstrap["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert int(bootstrap["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        migrate["metadata"]["annotations"]["helm.sh/hook-weight"]
    )


def test_helm_test_calls_readyz_through_the_service(renders: dict[str, list[Manifest]]) -> None:
    pod = one(renders["default"], "Pod", "-test-readyz")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = pod["spec"]["containers"][0]["command"][-1]
    assert "http://va-videoanalysis-api:80/readyz" in script


@pytest.mark.parametrize("values", ["default", "values-gpu", "values-dev"])
def test_env_names_match_the_settings_classes(renders: dict[str, list[Manifest]], values: str) -> None:
    """Every VA_ variable the chart sets is read by that component's settings class."""
    docs = renders[values]
    expected = {
        "-api": _fields(ApiSettings),
        "-operator": _fields(OperatorSettings),
        "-migrate": _fields(MigrateSettings),
    }
    for suffix, names in expected.items():
        kind = "Job" if suffix == "-migrate" else "Deployment"
        env = container_env(pod_spec(one(docs, kind, suffix))["containers"][0])
        unknown = {k for k in env if k.startswith("VA_")} - names
        assert not unknown, f"{values}: {suffix} sets variables no settings class reads: {unknown}"
    operator_env = container_env(pod_spec(one(docs, "Deployment", "-operator"))["containers"][0])
    assert set(json.loads(operator_env["VA_JOB_ENV"])) <= _fields(JobSettings)


@pytest.mark.parametrize("values", ["default", "values-gpu", "values-dev"])
def test_rendered_env_parses_into_the_settings(
    renders: dict[str, list[Manifest]], values: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """The values the chart renders are accepted by the settings classes (types, enums, JSON)."""
    docs = renders[values]
    secrets = {"secret-key": "k" * 48, "database-url": "postgres://u:p@db:5432/videoanalysis"}
    for suffix, settings_class in (("-api", ApiSettings), ("-operator", OperatorSettings)):
        env = container_env(pod_spec(one(docs, "Deployment", suffix))["containers"][0])
        with monkeypatch.context() as patch:
            for name, value in env.items():
                if name.startswith("VA_"):
                    patch.setenv(name, secrets[value["secretKeyRef"]["key"]] if isinstance(value, dict) else value)
            patch.setenv("VA_DATA_DIR", str(tmp_path))
            settings = settings_class()
        assert settings.database_url == secrets["database-url"]
        if settings_class is OperatorSettings:
            assert settings.job_env["VA_MODEL_WEIGHTS"]
            assert settings.job_defaults.gpus is not None and settings.job_defaults.resources["limits"]
            assert settings.job_defaults.activeDeadlineSeconds and settings.job_defaults.backoffLimit is not None
            assert settings.kube_namespace == "videoanalysis"
        else:
            assert settings.dispatcher.value == "kubernetes" and settings.secret_key == secrets["secret-key"]


def test_pushgateway_url_reaches_the_jobs_and_parses() -> None:
    """job.pushgatewayUrl is handed to every analysis Job through the operator's VA_JOB_ENV
    (the variable names themselves are checked against JobSettings above)."""
    docs = render("--set", "job.pushgatewayUrl=http://pushgateway.monitoring:9091")
    env = container_env(pod_spec(one(docs, "Deployment", "-operator"))["containers"][0])
    job_env = json.loads(env["VA_JOB_ENV"])
    assert job_env["VA_PUSHGATEWAY_URL"] == "http://pushgateway.monitoring:9091"


def test_shared_settings_reach_the_api_the_operator_and_the_jobs(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """retentionDays and videoUrls.* go to the API and the operator (which hands the video-URL
    policy to each Job), api.authCacheSeconds to the API, job.leaseTtlSeconds to the Jobs; each
    parses into its settings class."""
    docs = render(
        "--set", "retentionDays=30", "--set", "videoUrls.allowHttp=true",
        "--set", "videoUrls.allowedNetworks=10.0.0.0/8\\,minio.storage", "--set", "videoUrls.maxBytes=1000000",
        "--set-json", "api.authCacheSeconds=0.5", "--set", "job.leaseTtlSeconds=45",
    )  # fmt: skip
    parsed = {}
    for suffix, settings_class in (("-api", ApiSettings), ("-operator", OperatorSettings)):
        env = container_env(pod_spec(one(docs, "Deployment", suffix))["containers"][0])
        with monkeypatch.context() as patch:
            for name, value in env.items():
                if name.startswith("VA_") and not isinstance(value, dict):
                    patch.setenv(name, value)
            patch.setenv("VA_DATA_DIR", str(tmp_path))
            patch.setenv("VA_SECRET_KEY", "k" * 48)  # from the chart's Secret in a cluster
            parsed[suffix] = settings_class()
    for settings in parsed.values():
        assert settings.retention_days == 30
        assert settings.video_url_env() == {
            "VA_VIDEO_URL_ALLOW_HTTP": "true",
            "VA_VIDEO_URL_ALLOWED_NETWORKS": "10.0.0.0/8,minio.storage",
            "VA_VIDEO_URL_MAX_BYTES": "1000000",
            "VA_VIDEO_URL_DEADLINE_SECONDS": "1800.0",  # the chart sets no limits: the defaults, one value for all
            "VA_VIDEO_URL_MIN_BYTES_PER_SECOND": "65536",
            "VA_VIDEO_URL_RATE_WINDOW_SECONDS": "10.0",
        }
    assert parsed["-api"].auth_cache_seconds == 0.5
    job_env = parsed["-operator"].job_env
    with monkeypatch.context() as patch:
        for name, value in job_env.items():
            patch.setenv(name, value)
        assert JobSettings().lease_ttl_s == 45


def test_a_negative_retention_or_an_auth_cache_over_a_minute_is_refused() -> None:
    for flag, value in (("--set", "retentionDays=-1"), ("--set-json", "api.authCacheSeconds=61")):
        done = helm_template(flag, value, check=False)
        assert done.returncode != 0 and "values don't meet the specifications" in done.stderr, value


def test_ca_bundle_config_map_is_the_same_file_in_the_api_and_the_jobs(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """videoUrls.caBundleConfigMap: the API mounts ca.crt where VA_CA_BUNDLE points, and the Jobs the
    operator builds from its rendered settings mount the same key at the same path."""
    docs = render("--set", "videoUrls.caBundleConfigMap=corp-ca")
    api = pod_spec(one(docs, "Deployment", "-api"))
    api_env = container_env(api["containers"][0])
    path = api_env["VA_CA_BUNDLE"]
    mount = next(m for m in api["containers"][0]["volumeMounts"] if m["name"] == "ca-bundle")
    volume = next(v for v in api["volumes"] if v["name"] == "ca-bundle")
    assert volume["configMap"]["name"] == "corp-ca"
    [item] = volume["configMap"]["items"]
    assert f"{mount['mountPath']}/{item['path']}" == path and item["key"] == "ca.crt"

    job = built_job(docs, monkeypatch, tmp_path)["spec"]["template"]["spec"]
    job_env = container_env(job["containers"][0])
    assert job_env["VA_CA_BUNDLE"] == path
    assert {"name": "ca-bundle", "mountPath": path, "subPath": "ca.crt", "readOnly": True} in job["containers"][0][
        "volumeMounts"
    ]
    assert {"name": "ca-bundle", "configMap": {"name": "corp-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}} in (
        job["volumes"]
    )


def test_the_chart_needs_the_operators_minimum_kubernetes() -> None:
    """`kubeVersion` says what the operator checks at start: a managed cluster's version with a
    vendor suffix at the minimum renders, the release before it is refused by helm."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    major, minor = version.MINIMUM
    assert chart["kubeVersion"] == f">={major}.{minor}.0-0"
    assert render("--kube-version", f"v{major}.{minor}.2-eks-abc")
    older = helm_template("--kube-version", f"v{major}.{minor - 1}.9", check=False)
    assert older.returncode != 0
    assert "kubeVersion" in older.stderr or "incompatible" in older.stderr
