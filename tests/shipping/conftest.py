"""Fixtures of the shipping checks: the renders of scripts/chart-check.sh. The test Kubernetes
API server (`k8s_cluster`, `kube_api`) is the session's one, from tests/support/cluster.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.helm import VALUES, Manifest, parse, run
from tests.support.paths import ROOT


@pytest.fixture(scope="session")
def chart_check(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs scripts/chart-check.sh once (hadolint, CRD drift, helm lint/template,
    kubernetes-validate --strict, the compose file through Compose v2's loader); returns the
    folder of its renders."""
    out = tmp_path_factory.mktemp("chart")
    proc = run(ROOT / "scripts" / "chart-check.sh", check=False, env={**os.environ, "OUT_DIR": str(out)})
    assert proc.returncode == 0, f"chart-check failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert "chart-check: all passed" in proc.stdout
    return out


@pytest.fixture(scope="session")
def renders(chart_check: Path) -> dict[str, list[Manifest]]:
    """values name -> the manifests helm rendered with it (CRD included)."""
    return {name: parse((chart_check / f"{name}.yaml").read_text()) for name in VALUES}
