"""The operator's Prometheus metrics: the counting decorator on its own, then the real operator's
/metrics scraped while it creates a Job and fails a spec on the test cluster."""

from __future__ import annotations

import urllib.request
from typing import Any

import kopf
import pytest
from kubernetes import client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from tests.support.operator_process import OperatorProcess
from tests.support.ports import free_port
from tests.support.resources import create_va, jobs, phase_is
from tests.support.waits import wait_for
from va_operator import metrics


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of an exposition text (0 when absent: counters start there)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    return 0.0


def local(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    "raised, outcome",
    [
        (None, "success"),
        (kopf.TemporaryError("api hiccup"), "retry"),
        (kopf.PermanentError("bad spec"), "permanent"),
        (RuntimeError("bug"), "error"),
    ],
)
async def test_counted_labels_each_run_by_outcome(raised: Exception | None, outcome: str) -> None:
    @metrics.counted("unit")
    async def handler(value: int, **_: Any) -> int:
        """doc"""
        if raised is not None:
            raise raised
        return value

    before = local("va_operator_reconciles_total", handler="unit", outcome=outcome)
    if raised is None:
        assert await handler(value=3, extra="ignored") == 3
    else:
        with pytest.raises(type(raised)):
            await handler(value=3)
    assert local("va_operator_reconciles_total", handler="unit", outcome=outcome) == before + 1
    assert handler.__name__ == "handler" and handler.__doc__ == "doc"  # Kopf's handler id


def test_metrics_server_is_off_at_port_zero_and_serves_otherwise() -> None:
    assert metrics.start_metrics_server(0) is False
    port = free_port()
    assert metrics.start_metrics_server(port, addr="127.0.0.1") is True
    metrics.JOBS_CREATED.inc()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    assert sample(text, "va_operator_jobs_created_total") == local("va_operator_jobs_created_total") >= 1


@pytest.mark.kubernetes
async def test_operator_metrics_count_jobs_reconciles_and_failures(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    make_task: Any,
) -> None:
    text = await wait_for(lambda: _try_scrape(operator), what="the operator's /metrics")
    created = sample(text, "va_operator_jobs_created_total")
    ensured = sample(text, "va_operator_reconciles_total", handler="ensure_job", outcome="success")
    invalid = sample(text, "va_operator_failures_total", reason="InvalidSpec")

    create_va(kube_api, await make_task(), namespace)
    await wait_for(lambda: jobs(kube_api, namespace), what="the Job")
    # The handler ends after the Job is created (it then records Pending): wait for both.
    text = await wait_for(
        lambda: (
            (t := operator.scrape())
            and sample(t, "va_operator_jobs_created_total") > created
            and sample(t, "va_operator_reconciles_total", handler="ensure_job", outcome="success") > ensured
            and t
        ),
        what="jobs_created and a successful ensure_job",
    )
    assert sample(text, "va_operator_jobs_created_total") == created + 1

    name = create_va(kube_api, await make_task(model="no-such-model"), namespace)
    await wait_for(phase_is(kube_api, namespace, name, "Failed"), what="Failed")
    text = await wait_for(
        lambda: (
            (t := operator.scrape())
            and sample(t, "va_operator_failures_total", reason="InvalidSpec") > invalid
            and sample(t, "va_operator_reconciles_total", handler="ensure_job", outcome="permanent")
            and t
        ),
        what="failures_total and a permanent ensure_job",
    )
    assert sample(text, "va_operator_failures_total", reason="InvalidSpec") == invalid + 1
    assert sample(text, "va_operator_reconciles_total", handler="ensure_job", outcome="permanent") >= 1
    assert sample(text, "va_operator_jobs_created_total") == created + 1  # no Job for a bad spec


def _try_scrape(operator: OperatorProcess) -> str | None:
    try:
        return operator.scrape()
    except OSError:
        return None
