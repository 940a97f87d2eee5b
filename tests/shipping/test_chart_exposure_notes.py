"""What the chart tells and offers whoever installs it: the Gateway API route to the API (and the
public URL it implies), the example values' proxies, the NOTES printed after an install (storage
that cannot bind, a Kueue queue that must exist, a proxy the API does not trust), and the Artifact
Hub metadata in Chart.yaml. NOTES.txt is rendered only by an install: `helm install --dry-run=client
-o json` renders it without a cluster (no kubeconfig is read) and returns it as info.notes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.support.helm import (
    BIN,
    CHART,
    NAMESPACE,
    RELEASE,
    VALUES,
    Manifest,
    container_env,
    find,
    helm_template,
    one,
    parse,
    pod_spec,
    render,
    run,
)

GPU = CHART / "values-gpu.yaml"
ROUTE = ("--set", "api.httpRoute.enabled=true", "--set", "api.httpRoute.parentRefs[0].name=public")
SERVICE_URL = "http://va-videoanalysis-api.videoanalysis.svc:80"


def _public_url(docs: list[Manifest]) -> str:
    api = container_env(pod_spec(one(docs, "Deployment", "-api"))["containers"][0])["VA_PUBLIC_URL"]
    operator = container_env(pod_spec(one(docs, "Deployment", "-operator"))["containers"][0])["VA_PUBLIC_URL"]
    assert api == operator
    return api


def notes(*args: str, values: Path | None = None) -> str:
    """NOTES.txt as `helm install` prints it, from a client-side dry run (no cluster contacted)."""
    extra = ["-f", str(values)] if values else []
    env = {**os.environ, "KUBECONFIG": os.devnull}
    proc = run(
        BIN / "helm", "install", RELEASE, CHART, "--namespace", NAMESPACE,
        "--dry-run=client", "-o", "json", *extra, *args, env=env,
    )  # fmt: skip
    return json.loads(proc.stdout)["info"]["notes"]


# --- The HTTPRoute -------------------------------------------------------------------------------


def test_no_route_unless_asked() -> None:
    assert not find(render(), "HTTPRoute")
    assert not find(render(values=GPU), "HTTPRoute")


def test_route_sends_every_rule_to_the_api_http_port_never_metrics() -> None:
    docs = render(
        *ROUTE,
        "--set", "api.httpRoute.parentRefs[0].namespace=gateway-system",
        "--set", "api.httpRoute.parentRefs[0].sectionName=https",
        "--set", "api.httpRoute.hostnames[0]=va.example.com",
        "--set", "api.httpRoute.annotations.team=vision",
    )  # fmt: skip
    route = one(docs, "HTTPRoute")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["metadata"]["annotations"] == {"team": "vision"}
    assert route["metadata"]["labels"]["app.kubernetes.io/component"] == "api"
    spec = route["spec"]
    assert spec["parentRefs"] == [{"name": "public", "namespace": "gateway-system", "sectionName": "https"}]
    assert spec["hostnames"] == ["va.example.com"]
    service = one(docs, "Service", "-api")
    ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    [rule] = spec["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]  # the whole API
    assert rule["backendRefs"] == [{"name": service["metadata"]["name"], "port": ports["http"]}]
    assert ports["http"] != ports["metrics"]


def test_custom_rules_keep_their_matches_and_timeouts_and_the_api_backend(tmp_path: Path) -> None:
    values = tmp_path / "route.yaml"
    rules = [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/tasks"}}], "timeouts": {"request": "15m"}},
        {"matches": [{"path": {"type": "Exact", "value": "/healthz"}, "method": "GET"}]},
    ]
    values.write_text(yaml.safe_dump({"api": {"httpRoute": {"rules": rules}, "service": {"port": 8080}}}))
    spec = one(render(*ROUTE, values=values), "HTTPRoute")["spec"]
    assert [{k: v for k, v in r.items() if k != "backendRefs"} for r in spec["rules"]] == rules
    assert all(r["backendRefs"] == [{"name": "va-videoanalysis-api", "port": 8080}] for r in spec["rules"])
    assert "hostnames" not in spec  # none given: every host of the listener


@pytest.mark.parametrize(
    ("setting", "path"),
    [
        ("api.httpRoute.enabled=true", "/api/httpRoute/parentRefs"),  # a route attached to nothing
        ("api.httpRoute.hostnames[0]=Not_A_Host", "/api/httpRoute/hostnames/0"),
        ("api.httpRoute.rules[0].backendRefs[0].port=9090", "/api/httpRoute/rules/0"),  # no other backend
        ("api.httpRoute.rules[0].timeouts.request=ten minutes", "/api/httpRoute/rules/0/timeouts/request"),
        ("api.httpRoute.gateway=public", "/api/httpRoute"),
    ],
)
def test_schema_refuses_a_route_that_cannot_work(setting: str, path: str) -> None:
    proc = helm_template("--set", setting, check=False)
    assert proc.returncode != 0 and path in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("args", "url"),
    [
        ((*ROUTE, "--set", "api.httpRoute.hostnames={*.example.com,va.example.com}"), "https://va.example.com"),
        ((*ROUTE, "--set", "api.httpRoute.hostnames={*.example.com}"), SERVICE_URL),  # no URL in a wildcard
        (ROUTE, SERVICE_URL),
        (("--set", "api.httpRoute.hostnames={va.example.com}"), SERVICE_URL),  # not enabled
        ((*ROUTE, "--set", "api.httpRoute.hostnames={va.example.com}", "--set", "api.ingress.enabled=true"),
         "http://videoanalysis.local"),  # the Ingress comes first
        ((*ROUTE, "--set", "api.httpRoute.hostnames={va.example.com}", "--set", "api.publicUrl=http://va.lan/"),
         "http://va.lan"),
    ],
)  # fmt: skip
def test_public_url_counts_the_first_route_hostname(args: tuple[str, ...], url: str) -> None:
    assert _public_url(render(*args)) == url


# --- The shipped examples ------------------------------------------------------------------------


def _gateway_example() -> dict[str, Any]:
    """The HTTPRoute alternative values-gpu.yaml shows in comments, as values."""
    lines = GPU.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "Or through a Gateway" in line)
    block: list[str] = []
    for line in lines[start + 1 :]:
        if not line.startswith("  #   "):
            if block:
                break
            continue
        block.append(line.removeprefix("  #   "))
    return {"api": yaml.safe_load("\n".join(block))}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_examples_use_no_retired_controller_and_trust_the_proxy_they_expose(
    renders: dict[str, list[Manifest]], name: str
) -> None:
    docs = renders[name]
    for ingress in find(docs, "Ingress"):
        assert ingress["spec"].get("ingressClassName") != "nginx"
        assert not any(k.startswith("nginx.ingress.kubernetes.io/") for k in ingress["metadata"].get("annotations", {}))
    env = container_env(pod_spec(one(docs, "Deployment", "-api"))["containers"][0])
    if find(docs, "Ingress") or find(docs, "HTTPRoute"):
        # 127.0.0.1 would put every client behind the proxy into one sign-in bucket.
        assert env["VA_FORWARDED_ALLOW_IPS"] not in ("127.0.0.1", "*")


def test_gpu_values_gateway_alternative_renders_a_route_to_its_host(tmp_path: Path) -> None:
    example = _gateway_example()
    assert example["api"]["ingress"] == {"enabled": False}
    values = tmp_path / "gateway.yaml"
    values.write_text(yaml.safe_dump(example))
    docs = parse(helm_template("-f", str(GPU), "-f", str(values)).stdout)
    assert not find(docs, "Ingress")
    spec = one(docs, "HTTPRoute")["spec"]
    assert spec["hostnames"] == ["videoanalysis.example.com"]
    assert spec["rules"][0]["timeouts"] == {"request": "15m"}
    assert _public_url(docs) == "https://videoanalysis.example.com"
    env = container_env(pod_spec(one(docs, "Deployment", "-api"))["containers"][0])
    assert env["VA_FORWARDED_ALLOW_IPS"] != "127.0.0.1"


# --- NOTES.txt -------------------------------------------------------------------------------------


def test_notes_warn_when_the_default_class_is_asked_for_read_write_many() -> None:
    text = notes()  # the evaluation install: ReadWriteMany from the default StorageClass
    assert "WARNING: the videos claim va-videoanalysis-videos asks the cluster's default StorageClass" in text
    assert "kubectl get pvc va-videoanalysis-videos --namespace videoanalysis" in text
    assert "stays Pending" in text
    for fix in ("storage.storageClassName=", "storage.existingClaim=", "storage.accessModes={ReadWriteOnce}"):
        assert fix in text
    assert "only if the API and every analysis Job run on one node" in text


@pytest.mark.parametrize(
    "setting",
    ["storage.storageClassName=efs-sc", "storage.existingClaim=videos", "storage.accessModes={ReadWriteOnce}"],
)
def test_no_storage_warning_once_the_claim_can_bind(setting: str) -> None:
    assert "videos claim" not in notes("--set", setting)


def test_notes_remind_that_the_kueue_local_queue_must_exist() -> None:
    assert "LocalQueue" not in notes()
    text = notes("--set", "job.kueueQueueName=gpus")
    assert "kubectl get localqueue gpus --namespace videoanalysis" in text
    flat = " ".join(text.split())
    # Kueue's own words on the Workload of a Job labelled for a queue that is not there.
    assert '"LocalQueue gpus doesn\'t exist"' in flat
    assert "the Job gets no Pod, its deadline does not run" in flat


def test_notes_show_where_the_api_is_reached() -> None:
    default = notes()
    assert "kubectl port-forward --namespace videoanalysis svc/va-videoanalysis-api 8000:80" in default
    routed = notes(
        *ROUTE, "--set", "api.httpRoute.hostnames={va.example.com}", "--set", "api.forwardedAllowIps=10.0.0.0/8"
    )
    assert "https://va.example.com/docs" in routed and "port-forward" not in routed
    assert "kubectl get httproute --namespace videoanalysis va-videoanalysis-api" in routed
    assert "forwardedAllowIps" not in routed
    gpu = notes(values=GPU)
    assert "https://videoanalysis.example.com/docs" in gpu
    assert "LocalQueue gpu-queue" in gpu and "videos claim" not in gpu and "forwardedAllowIps" not in gpu


def test_notes_warn_when_the_proxy_in_front_is_not_trusted() -> None:
    text = notes("--set", "api.ingress.enabled=true")
    assert "http://videoanalysis.local/docs" in text
    assert "WARNING: api.forwardedAllowIps trusts only 127.0.0.1" in text
    assert "share one sign-in" in text


# --- Artifact Hub ----------------------------------------------------------------------------------

#: What Artifact Hub's Helm tracker unmarshals each YAML annotation into (unknown keys are dropped
#: silently there, so a misspelt one is caught here).
FIELDS = {
    "artifacthub.io/links": {"name", "url"},
    "artifacthub.io/images": {"name", "image", "whitelisted", "platforms"},
    "artifacthub.io/crds": {"kind", "version", "name", "displayName", "description"},
    "artifacthub.io/changes": {"kind", "description", "links"},
}
CATEGORIES = {
    "ai-machine-learning", "database", "integration-delivery", "monitoring-logging",
    "networking", "security", "storage", "streaming-messaging", "skip-prediction",
}  # fmt: skip
CHANGE_KINDS = {"added", "changed", "deprecated", "removed", "fixed", "security"}
IMAGE_REF = re.compile(r"^[a-z0-9]+([._/-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$")


@pytest.fixture(scope="module")
def hub() -> dict[str, Any]:
    annotations = yaml.safe_load((CHART / "Chart.yaml").read_text())["annotations"]
    parsed: dict[str, Any] = {}
    for key, value in annotations.items():
        assert isinstance(value, str), f"{key}: annotations are strings"
        parsed[key] = yaml.safe_load(value) if key in FIELDS or key == "artifacthub.io/crdsExamples" else value
    return parsed


def test_hub_annotations_parse_as_artifact_hub_reads_them(hub: dict[str, Any]) -> None:
    assert hub["artifacthub.io/category"] in CATEGORIES
    assert hub["artifacthub.io/operator"] == "true"  # strconv.ParseBool
    for key, fields in FIELDS.items():
        entries = hub[key]
        assert isinstance(entries, list) and entries, key
        for entry in entries:
            assert isinstance(entry, dict) and set(entry) <= fields, (key, entry)
    assert all(link["name"] and link["url"].startswith("https://") for link in hub["artifacthub.io/links"])
    for change in hub["artifacthub.io/changes"]:
        assert change["kind"] in CHANGE_KINDS and change["description"].strip()


def _images(docs: list[Manifest]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("containers", "initContainers"):
                    found.update(c["image"] for c in value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(docs)
    return found


def test_hub_images_are_those_the_default_install_runs(hub: dict[str, Any], renders: dict[str, list[Manifest]]) -> None:
    docs = renders["default"]
    job_image = container_env(pod_spec(one(docs, "Deployment", "-operator"))["containers"][0])["VA_JOB_IMAGE"]
    images = {i["name"]: i["image"] for i in hub["artifacthub.io/images"]}
    assert len(images) == len(hub["artifacthub.io/images"])
    assert all(IMAGE_REF.match(ref) for ref in images.values()), images
    assert set(images.values()) == _images(docs) | {job_image}
    values = yaml.safe_load((CHART / "values.yaml").read_text())["postgresql"]["image"]
    assert images["postgresql"] == f"{values['repository']}:{values['tag']}"


def _unknown_fields(node: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Keys the structural schema does not declare (the API server would prune or refuse them)."""
    if isinstance(node, dict) and "properties" in schema:
        out = []
        for key, value in node.items():
            if key not in schema["properties"]:
                out.append(f"{path}.{key}")
            else:
                out += _unknown_fields(value, schema["properties"][key], f"{path}.{key}")
        return out
    if isinstance(node, list) and "items" in schema:
        return [m for i, item in enumerate(node) for m in _unknown_fields(item, schema["items"], f"{path}[{i}]")]
    return []


def test_hub_crd_and_its_example_match_the_shipped_crd(hub: dict[str, Any]) -> None:
    crd = one(parse(helm_template("--include-crds").stdout), "CustomResourceDefinition")
    names, group = crd["spec"]["names"], crd["spec"]["group"]
    [served] = [v for v in crd["spec"]["versions"] if v["storage"]]
    [card] = hub["artifacthub.io/crds"]
    assert (card["kind"], card["version"], card["name"]) == (names["kind"], served["name"], crd["metadata"]["name"])
    schema = served["schema"]["openAPIV3Schema"]
    examples = hub["artifacthub.io/crdsExamples"]
    assert examples
    for example in examples:
        assert example["apiVersion"] == f"{group}/{served['name']}" and example["kind"] == names["kind"]
        jsonschema.validate({k: v for k, v in example.items() if k != "metadata"}, schema)
        assert not _unknown_fields(example["spec"], schema["properties"]["spec"])
        assert "taskId" not in example["spec"]  # the API's field; by hand a resource names its owner
        assert example["spec"]["owner"]
