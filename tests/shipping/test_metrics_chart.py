"""Metrics in the chart: the operator's metrics port and Service, and the optional Prometheus
Operator ServiceMonitors (`serviceMonitor.enabled`) for the API and the operator."""

from __future__ import annotations

import kubernetes_validate

from tests.support.helm import BIN, CHART, NAMESPACE, Manifest, container_env, find, one, pod_spec, render, run

#: kubernetes-validate knows only the built-in kinds; the ServiceMonitor's schema is the
#: Prometheus Operator's CRD, which it cannot know, so only that kind is left out.
UNKNOWN_TO_VALIDATE = {"ServiceMonitor"}


def _operator(docs: list[Manifest]) -> Manifest:
    return pod_spec(one(docs, "Deployment", "-operator"))["containers"][0]


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def test_operator_serves_metrics_on_a_named_port_behind_a_service() -> None:
    docs = render()
    assert not find(docs, "ServiceMonitor")  # off by default: the CRD may not exist
    container = _operator(docs)
    port = next(p for p in container["ports"] if p["name"] == "metrics")
    assert container_env(container)["VA_METRICS_PORT"] == str(port["containerPort"]) == "9090"
    service = one(docs, "Service", "-operator-metrics")
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}]
    pod_labels = one(docs, "Deployment", "-operator")["spec"]["template"]["metadata"]["labels"]
    assert _selects(service["spec"]["selector"], pod_labels)


def test_metrics_port_zero_turns_the_operator_metrics_off() -> None:
    docs = render("--set", "operator.metricsPort=0", "--set", "serviceMonitor.enabled=true")
    container = _operator(docs)
    assert container_env(container)["VA_METRICS_PORT"] == "0"
    assert "metrics" not in {p["name"] for p in container["ports"]}
    assert not find(docs, "Service", "-operator-metrics")
    assert [m["metadata"]["name"] for m in find(docs, "ServiceMonitor")] == ["va-videoanalysis-api"]


def test_service_monitors_scrape_the_api_and_the_operator_and_the_rest_validates() -> None:
    args = (
        "--set",
        "serviceMonitor.enabled=true",
        "--set",
        "serviceMonitor.labels.release=kps",
        "--set",
        "serviceMonitor.scrapeTimeout=10s",
    )
    run(BIN / "helm", "lint", "--strict", CHART, "--namespace", NAMESPACE, *args)
    docs = render(*args)
    monitors = {m["metadata"]["name"]: m for m in find(docs, "ServiceMonitor")}
    assert set(monitors) == {"va-videoanalysis-api", "va-videoanalysis-operator"}
    services = find(docs, "Service")
    for component, port in (("api", "metrics"), ("operator", "metrics")):
        monitor = monitors[f"va-videoanalysis-{component}"]
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "kps"
        spec = monitor["spec"]
        assert spec["namespaceSelector"] == {"matchNames": [NAMESPACE]}
        assert spec["endpoints"] == [{"port": port, "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}]
        [service] = [s for s in services if _selects(spec["selector"]["matchLabels"], s["metadata"]["labels"])]
        assert port in {p["name"] for p in service["spec"]["ports"]}
        deployment = one(docs, "Deployment", f"-{component}")
        assert _selects(service["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"])
    for doc in docs:
        if doc["kind"] not in UNKNOWN_TO_VALIDATE:
            kubernetes_validate.validate(doc, "1.34.0", strict=True)
