"""The Helm conventions platform teams expect: image digests and global.imageRegistry /
global.imagePullSecrets, per-component pod settings (priorityClassName, podAnnotations,
podLabels, topologySpreadConstraints), PodDisruptionBudgets, nameable ServiceAccounts,
rbac.create and the view/edit aggregation. Each value reaches its manifests, the schema refuses
bad ones naming the path, and the defaults render what they did before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.helm import (
    BIN,
    CHART,
    Manifest,
    built_job,
    find,
    helm_template,
    one,
    operator_env,
    operator_settings,
    pod_spec,
    render,
    run,
)

CONVENTIONS = Path(__file__).with_name("values-conventions.yaml")
DIGEST = "sha256:" + "ab" * 32
WORKLOADS = ("Deployment", "StatefulSet", "Job", "Pod")
SELECTOR_KEYS = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component")
#: The chart's pods by kind and name suffix, with the values section that shapes each.
PODS = {
    "api": ("Deployment", "-api"),
    "operator": ("Deployment", "-operator"),
    "postgresql": ("StatefulSet", "-postgresql"),
    "migrations": ("Job", "-migrate"),
    "secret.bootstrap": ("Job", "-secret-bootstrap"),
}


def _pod(docs: list[Manifest], component: str) -> Manifest:
    kind, suffix = PODS[component]
    return one(docs, kind, suffix)


def _container(docs: list[Manifest], kind: str, suffix: str) -> Manifest:
    return pod_spec(one(docs, kind, suffix))["containers"][0]


def _built_job_pod(docs: list[Manifest], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Manifest:
    return built_job(docs, monkeypatch, tmp_path)["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def conventions() -> list[Manifest]:
    return render(values=CONVENTIONS)


@pytest.fixture(scope="module")
def default() -> list[Manifest]:
    return render()


# Defaults ---------------------------------------------------------------------------------------


def test_defaults_render_as_before(default: list[Manifest]) -> None:
    """No PDB, no priority, no spread, no extra pod metadata; the chart's ServiceAccount names and
    tag references; the only new objects are the two aggregated ClusterRoles."""
    assert not find(default, "PodDisruptionBudget")
    for component in PODS:
        doc = _pod(default, component)
        spec, meta = pod_spec(doc), doc["spec"]["template"]["metadata"]
        assert "priorityClassName" not in spec and "topologySpreadConstraints" not in spec, component
        assert "annotations" not in meta, component
        assert meta["labels"] == doc["metadata"]["labels"], component  # the chart's labels, nothing else
    accounts = {sa["metadata"]["name"] for sa in find(default, "ServiceAccount")}
    assert {f"va-videoanalysis-{c}" for c in ("api", "operator", "job", "secret-bootstrap")} <= accounts
    assert operator_env(default)["VA_SERVICE_ACCOUNT_NAME"] == "va-videoanalysis-job"
    assert one(default, "NetworkPolicy", "-job")["metadata"]["name"] == "va-videoanalysis-job"
    assert _container(default, "Deployment", "-api")["image"] == "videoanalysis-api:0.1.0"
    assert operator_env(default)["VA_JOB_IMAGE"] == "videoanalysis-job:0.1.0"
    assert _container(default, "StatefulSet", "-postgresql")["image"].startswith("postgres:")
    assert {r["metadata"]["name"] for r in find(default, "ClusterRole")} == {
        "va-videoanalysis-videoanalysis-view",
        "va-videoanalysis-videoanalysis-edit",
    }


# Images -----------------------------------------------------------------------------------------


def test_a_digest_pins_each_image_and_the_tag_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    args = ["--set", "image.tag=9.9.9"]
    for component in ("api", "operator", "job", "postgresql"):
        args += ["--set", f"{component}.image.digest={DIGEST}"]
    docs = render(*args)
    api_image = f"videoanalysis-api@{DIGEST}"
    operator_image = f"videoanalysis-operator@{DIGEST}"
    assert _container(docs, "Deployment", "-api")["image"] == api_image
    assert _container(docs, "Job", "-migrate")["image"] == api_image
    assert _container(docs, "Pod", "-test-readyz")["image"] == api_image
    assert _container(docs, "Deployment", "-operator")["image"] == operator_image
    assert _container(docs, "Job", "-secret-bootstrap")["image"] == operator_image
    assert _container(docs, "StatefulSet", "-postgresql")["image"] == f"postgres@{DIGEST}"
    assert operator_env(docs)["VA_JOB_IMAGE"] == f"videoanalysis-job@{DIGEST}"
    assert _built_job_pod(docs, monkeypatch, tmp_path)["containers"][0]["image"] == f"videoanalysis-job@{DIGEST}"


def test_global_image_registry_wins_for_every_image_postgresql_included() -> None:
    docs = render(
        "--set", "global.imageRegistry=mirror.example.com/", "--set", "image.registry=registry.example.com/va",
        "--set", "postgresql.image.registry=docker.io/library",
    )  # fmt: skip
    images = [c["image"] for d in docs if d["kind"] in WORKLOADS for c in pod_spec(d)["containers"]]
    images.append(operator_env(docs)["VA_JOB_IMAGE"])
    assert len(images) >= 7 and all(i.startswith("mirror.example.com/") for i in images), images
    assert "mirror.example.com/videoanalysis-job:0.1.0" in images
    assert _container(docs, "StatefulSet", "-postgresql")["image"].startswith("mirror.example.com/postgres:")


def test_image_registry_is_the_charts_images_and_postgresql_has_its_own() -> None:
    docs = render("--set", "image.registry=registry.example.com/va")
    assert _container(docs, "Deployment", "-api")["image"] == "registry.example.com/va/videoanalysis-api:0.1.0"
    assert _container(docs, "StatefulSet", "-postgresql")["image"].startswith("postgres:")  # Docker Hub as before
    docs = render("--set", "postgresql.image.registry=quay.io/mirror")
    assert _container(docs, "StatefulSet", "-postgresql")["image"].startswith("quay.io/mirror/postgres:")


def test_global_pull_secrets_join_image_pull_secrets_in_every_pod(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Names or {name}, each once; the analysis Jobs get them too (through the operator)."""
    docs = render(
        "--set-json", 'global.imagePullSecrets=["mirror-cred", {"name": "regcred"}]',
        "--set-json", 'image.pullSecrets=[{"name": "regcred"}, {"name": "team-cred"}]',
    )  # fmt: skip
    expected = [{"name": "mirror-cred"}, {"name": "regcred"}, {"name": "team-cred"}]
    pods = [d for d in docs if d["kind"] in WORKLOADS]
    assert len(pods) >= 6
    for doc in pods:
        assert pod_spec(doc).get("imagePullSecrets") == expected, doc["metadata"]["name"]
    assert _built_job_pod(docs, monkeypatch, tmp_path)["imagePullSecrets"] == expected


# Pod settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("component", list(PODS))
def test_pod_settings_reach_each_component(conventions: list[Manifest], component: str) -> None:
    values = {
        "api": ("va-serving", {"sidecar.istio.io/inject": "false"}),
        "operator": ("va-control", {"example.com/owner": "vision"}),
        "postgresql": ("va-data", {"backup.velero.io/backup-volumes": "data"}),
        "migrations": ("va-control", {"sidecar.istio.io/inject": "false"}),
        "secret.bootstrap": ("va-control", {"sidecar.istio.io/inject": "false"}),
    }
    priority, annotations = values[component]
    doc = _pod(conventions, component)
    assert pod_spec(doc)["priorityClassName"] == priority
    meta = doc["spec"]["template"]["metadata"]
    assert meta["annotations"] == annotations
    assert meta["labels"]["team"] == "vision"


@pytest.mark.parametrize("component", list(PODS))
def test_pod_labels_never_replace_the_charts_labels(component: str) -> None:
    """A podLabels key the chart sets keeps the chart's value: the selector still matches the pods,
    the Services and NetworkPolicies still find them."""
    hijack = dict.fromkeys((*SELECTOR_KEYS, "app.kubernetes.io/part-of"), "hijacked") | {"team": "vision"}
    docs = render("--set-json", f"{component}.podLabels={json.dumps(hijack)}")
    doc = _pod(docs, component)
    labels = doc["spec"]["template"]["metadata"]["labels"]
    assert "hijacked" not in labels.values() and labels["team"] == "vision"
    assert {k: v for k, v in labels.items() if k != "team"} == doc["metadata"]["labels"]
    if doc["kind"] in ("Deployment", "StatefulSet"):
        assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_topology_spread_constraints_spread_the_components_own_pods(conventions: list[Manifest]) -> None:
    api = pod_spec(_pod(conventions, "api"))["topologySpreadConstraints"]
    selector = _pod(conventions, "api")["spec"]["selector"]
    assert api[0]["labelSelector"] == selector and api[0]["topologyKey"] == "topology.kubernetes.io/zone"
    assert api[1]["labelSelector"] == {"matchLabels": {"tier": "web"}}  # given: kept as written
    operator = _pod(conventions, "operator")
    assert pod_spec(operator)["topologySpreadConstraints"] == [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": operator["spec"]["selector"],
        }
    ]


# PodDisruptionBudgets ---------------------------------------------------------------------------


def test_pod_disruption_budgets_select_their_components_pods(conventions: list[Manifest]) -> None:
    for component, bound in (("api", {"minAvailable": 2}), ("operator", {"maxUnavailable": "50%"})):
        pdb = one(conventions, "PodDisruptionBudget", f"-{component}")
        assert pdb["apiVersion"] == "policy/v1"
        assert pdb["spec"]["selector"] == _pod(conventions, component)["spec"]["selector"]
        assert {k: v for k, v in pdb["spec"].items() if k in ("minAvailable", "maxUnavailable")} == bound
        assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_a_budget_without_bounds_allows_one_pod_down() -> None:
    docs = render("--set", "api.podDisruptionBudget.enabled=true")
    spec = one(docs, "PodDisruptionBudget", "-api")["spec"]
    assert spec["maxUnavailable"] == 1 and "minAvailable" not in spec
    assert not find(docs, "PodDisruptionBudget", "-operator")  # off unless asked


@pytest.mark.parametrize(
    "args",
    [
        # One Recreate operator replica: minAvailable 1 would hold every node drain.
        ("--set", "operator.podDisruptionBudget.enabled=true", "--set", "operator.podDisruptionBudget.minAvailable=1"),
        ("--set", "api.podDisruptionBudget.enabled=true", "--set", "api.podDisruptionBudget.maxUnavailable=0"),
        ("--set", "api.replicas=2", "--set", "api.podDisruptionBudget.enabled=true",
         "--set", "api.podDisruptionBudget.minAvailable=100%"),
    ],
)  # fmt: skip
def test_a_budget_that_admits_no_eviction_is_refused(args: tuple[str, ...]) -> None:
    done = helm_template(*args, check=False)
    assert done.returncode != 0 and "would block every node drain" in done.stderr, done.stderr


def test_an_operator_budget_keeps_a_standby_through_a_drain() -> None:
    docs = render(
        "--set", "operator.replicas=2", "--set", "operator.podDisruptionBudget.enabled=true",
        "--set", "operator.podDisruptionBudget.minAvailable=1",
    )  # fmt: skip
    assert one(docs, "PodDisruptionBudget", "-operator")["spec"]["minAvailable"] == 1


# ServiceAccounts and RBAC -----------------------------------------------------------------------


def test_service_account_names_reach_pods_bindings_and_the_operator(
    conventions: list[Manifest], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    accounts = {sa["metadata"]["name"]: sa for sa in find(conventions, "ServiceAccount")}
    assert {"va-api", "va-operator", "va-gpu-runner", "va-bootstrap"} <= set(accounts)
    assert accounts["va-gpu-runner"]["automountServiceAccountToken"] is False
    for component, account in (("api", "va-api"), ("operator", "va-operator"), ("secret.bootstrap", "va-bootstrap")):
        assert pod_spec(_pod(conventions, component))["serviceAccountName"] == account
        binding = one(conventions, "RoleBinding", PODS[component][1])
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": "videoanalysis"}]
    assert operator_env(conventions)["VA_SERVICE_ACCOUNT_NAME"] == "va-gpu-runner"
    assert operator_settings(conventions, monkeypatch, tmp_path).service_account_name == "va-gpu-runner"
    job = _built_job_pod(conventions, monkeypatch, tmp_path)
    assert job["serviceAccountName"] == "va-gpu-runner" and job["automountServiceAccountToken"] is False
    # Other objects keep the chart's names.
    assert one(conventions, "NetworkPolicy", "-job")["metadata"]["name"] == "va-videoanalysis-job"
    assert one(conventions, "Role", "-api")["metadata"]["name"] == "va-videoanalysis-api"


def test_service_account_create_false_uses_accounts_that_exist() -> None:
    docs = render("--set", "serviceAccount.create=false", "--set", "serviceAccount.api.name=platform-api")
    assert not find(docs, "ServiceAccount")
    assert pod_spec(_pod(docs, "api"))["serviceAccountName"] == "platform-api"
    assert pod_spec(_pod(docs, "operator"))["serviceAccountName"] == "va-videoanalysis-operator"
    assert one(docs, "RoleBinding", "-api")["subjects"][0]["name"] == "platform-api"


def test_rbac_create_false_renders_no_rbac() -> None:
    docs = render("--set", "rbac.create=false")
    for kind in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"):
        assert not find(docs, kind), kind
    assert find(docs, "ServiceAccount") and find(docs, "Deployment", "-api")


def test_aggregated_cluster_roles_give_namespace_users_videoanalyses(default: list[Manifest]) -> None:
    """As Kueue and cert-manager ship them: labels that fold the rules into view, edit and admin;
    no binding, no status writes (the operator's), nothing but VideoAnalyses."""
    view = one(default, "ClusterRole", "-view")
    assert view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    assert view["rules"] == [
        {
            "apiGroups": ["videoanalysis.io"],
            "resources": ["videoanalyses", "videoanalyses/status"],
            "verbs": ["get", "list", "watch"],
        }
    ]
    edit = one(default, "ClusterRole", "-edit")
    labels = edit["metadata"]["labels"]
    assert labels["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert labels["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
    [rule] = edit["rules"]
    assert rule["apiGroups"] == ["videoanalysis.io"] and rule["resources"] == ["videoanalyses"]
    assert {"create", "update", "patch", "delete"} <= set(rule["verbs"])
    assert not {"*", "escalate", "bind", "impersonate"} & set(rule["verbs"])
    assert not find(default, "ClusterRoleBinding")


def test_aggregation_can_be_turned_off_one_by_one() -> None:
    docs = render("--set", "rbac.aggregateToEdit=false")
    assert [r["metadata"]["name"] for r in find(docs, "ClusterRole")] == ["va-videoanalysis-videoanalysis-view"]
    assert not find(render("--set", "rbac.aggregateToView=false", "--set", "rbac.aggregateToEdit=false"), "ClusterRole")


# Schema and validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (("--set", "api.image.digest=sha256:abc"), "/api/image/digest"),
        (("--set", "job.image.digest=" + DIGEST.upper()), "/job/image/digest"),
        (("--set", "postgresql.image.digest=md5:" + "a" * 64), "/postgresql/image/digest"),
        (("--set", "global.storageClass=fast"), "/global"),
        (("--set", "global.imagePullSecrets[0].nam=x"), "/global/imagePullSecrets/0"),
        (("--set", "api.podDisruptionBudget.minAvailable=1", "--set", "api.podDisruptionBudget.maxUnavailable=1"),
         "/api/podDisruptionBudget/maxUnavailable"),
        (("--set", "operator.podDisruptionBudget.maxUnavailable=150%"), "/operator/podDisruptionBudget/maxUnavailable"),
        (("--set", "api.podLabels.team=1"), "/api/podLabels/team"),
        (("--set", "migrations.podAnnotations.a=1"), "/migrations/podAnnotations/a"),
        (("--set", "postgresql.priorityClassName=Not_A_Name"), "/postgresql/priorityClassName"),
        (("--set-json", 'operator.topologySpreadConstraints=[{"maxSkew": 1}]'), "/operator/topologySpreadConstraints/0"),
        (("--set", "postgresql.topologySpreadConstraints=x"), "/postgresql"),
        (("--set", "serviceAccount.job.name=Bad_Name"), "/serviceAccount/job/name"),
        (("--set", "serviceAccount.jobs.name=x"), "/serviceAccount"),
        (("--set", "rbac.aggregateToView=yes"), "/rbac/aggregateToView"),
        (("--set", "secret.bootstrap.podLabels.team=1"), "/secret/bootstrap/podLabels/team"),
    ],
)  # fmt: skip
def test_schema_refuses_bad_convention_values_naming_the_path(args: tuple[str, ...], path: str) -> None:
    done = helm_template(*args, check=False)
    assert done.returncode != 0 and "values don't meet the specifications" in done.stderr, args
    assert f"'{path}" in done.stderr, (args, done.stderr)


def test_an_image_without_tag_or_digest_is_a_clear_error() -> None:
    done = helm_template("--set", "postgresql.image.tag=", check=False)
    assert done.returncode != 0 and "image postgres needs a tag or a digest" in done.stderr


def test_the_conventions_render_passes_kubernetes_validate_strict(tmp_path: Path) -> None:
    """Like chart-check.sh for the shipped values files: lint, then every manifest validated."""
    run(BIN / "helm", "lint", "--strict", CHART, "-f", CONVENTIONS)
    rendered = tmp_path / "conventions.yaml"
    rendered.write_text(helm_template(values=CONVENTIONS).stdout)
    proc = run(BIN / "kubernetes-validate", "--strict", "-k", "1.34.0", "--quiet", rendered, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
