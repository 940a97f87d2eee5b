"""What a cluster install exposes: the public URL it links to, /metrics kept off the Ingress, the
NetworkPolicies around the database and the analysis Jobs, and checksummed weights. The test
cluster has no network plugin, so the policies are rendered, validated (chart-check) and applied
with a server-side dry run (test_dry_run.py), never enforced here."""

from __future__ import annotations

import json

import pytest

from tests.support.helm import CHART, Manifest, container_env, find, helm_template, one, pod_spec, render
from va_operator.builders import job_labels
from va_operator.config import OperatorSettings


def _env(docs: list[Manifest], suffix: str) -> dict:
    return container_env(pod_spec(one(docs, "Deployment", suffix))["containers"][0])


@pytest.mark.parametrize(
    ("args", "values", "url"),
    [
        ((), None, "http://va-videoanalysis-api.videoanalysis.svc:80"),
        ((), CHART / "values-gpu.yaml", "https://videoanalysis.example.com"),
        (("--set", "api.ingress.enabled=true"), None, "http://videoanalysis.local"),
        (("--set", "api.publicUrl=https://va.example.org/"), CHART / "values-gpu.yaml", "https://va.example.org"),
    ],
)
def test_public_url_reaches_the_api_and_the_operator(args: tuple[str, ...], values, url: str) -> None:
    docs = render(*args, values=values)
    assert _env(docs, "-api")["VA_PUBLIC_URL"] == _env(docs, "-operator")["VA_PUBLIC_URL"] == url


def test_trusted_proxies_reach_the_api() -> None:
    assert _env(render(), "-api")["VA_FORWARDED_ALLOW_IPS"] == "127.0.0.1"  # none but loopback
    docs = render("--set", "api.forwardedAllowIps=10.0.0.0/8")
    assert _env(docs, "-api")["VA_FORWARDED_ALLOW_IPS"] == "10.0.0.0/8"


def test_public_url_must_be_http_or_https() -> None:
    proc = helm_template("--set", "api.publicUrl=ftp://va.example.org", check=False)
    assert proc.returncode != 0 and "/api/publicUrl" in proc.stderr


def test_metrics_have_their_own_port_which_the_ingress_never_routes() -> None:
    docs = render(values=CHART / "values-gpu.yaml")
    container = pod_spec(one(docs, "Deployment", "-api"))["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container_env(container)["VA_METRICS_PORT"] == str(ports["metrics"]) != str(ports["http"])
    service = one(docs, "Service", "-api")
    assert {p["name"]: p["targetPort"] for p in service["spec"]["ports"]} == {"http": "http", "metrics": "metrics"}
    backends = [
        path["backend"]["service"]["port"]
        for rule in one(docs, "Ingress")["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends and all(b == {"name": "http"} for b in backends)
    off = render("--set", "api.metricsPort=0")
    assert _env(off, "-api")["VA_METRICS_PORT"] == "0"
    assert [p["name"] for p in one(off, "Service", "-api")["spec"]["ports"]] == ["http"]


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def _pod_labels(docs: list[Manifest], kind: str, suffix: str) -> dict[str, str]:
    return one(docs, kind, suffix)["spec"]["template"]["metadata"]["labels"]


def test_only_the_components_and_the_jobs_reach_the_bundled_database() -> None:
    docs = render()
    job_pods = job_labels("va-x", "t", OperatorSettings())  # what the operator puts on every Job's Pods
    policy = one(docs, "NetworkPolicy", "-postgresql")
    assert _selects(policy["spec"]["podSelector"]["matchLabels"], _pod_labels(docs, "StatefulSet", "-postgresql"))
    [rule] = policy["spec"]["ingress"]
    peers = [p["podSelector"]["matchLabels"] for p in rule["from"]]
    allowed = {
        "api": _pod_labels(docs, "Deployment", "-api"),
        "operator": _pod_labels(docs, "Deployment", "-operator"),
        "migrations": _pod_labels(docs, "Job", "-migrate"),
        "jobs": job_pods,
    }
    for who, labels in allowed.items():
        assert any(_selects(p, labels) for p in peers), who
    for other in ("-secret-bootstrap", "-postgresql"):
        labels = _pod_labels(docs, "Job" if other == "-secret-bootstrap" else "StatefulSet", other)
        assert not any(_selects(p, labels) for p in peers), other
    assert not any(_selects(p, one(docs, "Pod", "-test-readyz")["metadata"]["labels"]) for p in peers)


def test_jobs_reach_only_dns_the_database_and_video_urls() -> None:
    docs = render()
    policy = one(docs, "NetworkPolicy", "-job")
    assert _selects(policy["spec"]["podSelector"]["matchLabels"], job_labels("va-x", "t", OperatorSettings()))
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"] and policy["spec"]["ingress"] == []
    dns, database, _video_urls = policy["spec"]["egress"]  # the last: test_job_video_url_egress.py
    assert dns == {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
    assert database["ports"] == [{"port": 5432, "protocol": "TCP"}]
    [peer] = database["to"]
    assert _selects(peer["podSelector"]["matchLabels"], _pod_labels(docs, "StatefulSet", "-postgresql"))


def test_external_database_and_extra_egress_are_values() -> None:
    docs = render(
        "--set",
        "networkPolicy.databaseTo[0].ipBlock.cidr=10.0.5.0/24",
        "--set",
        "networkPolicy.jobExtraEgress[0].ports[0].port=9091",
        values=CHART / "values-gpu.yaml",
    )
    assert not find(docs, "NetworkPolicy", "-postgresql")
    _, database, _, extra = one(docs, "NetworkPolicy", "-job")["spec"]["egress"]
    assert database == {"ports": [{"port": 5432, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": "10.0.5.0/24"}}]}
    assert extra == {"ports": [{"port": 9091}]}
    assert not find(render("--set", "networkPolicy.enabled=false"), "NetworkPolicy")


def test_weights_url_must_be_https_with_a_sha256() -> None:
    for setting, path in {
        "job.modelWeights=http://example.org/w.pkl": "/job/modelWeights",
        "job.modelWeights=https://example.org/w.pkl": "/job/modelWeightsSha256",
    }.items():
        proc = helm_template("--set", setting, check=False)
        assert proc.returncode != 0 and path in proc.stderr, (setting, proc.stderr)
    digest = "ab" * 32
    docs = render("--set", "job.modelWeights=https://example.org/w.pkl", "--set", f"job.modelWeightsSha256={digest}")
    job_env = json.loads(_env(docs, "-operator")["VA_JOB_ENV"])
    assert job_env == {
        "VA_MODEL_WEIGHTS": "https://example.org/w.pkl",
        "VA_MODEL_WEIGHTS_SHA256": digest,
        "VA_LEASE_TTL_S": "30",
    }
