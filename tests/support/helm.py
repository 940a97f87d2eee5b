"""Runs the shipped tools (helm, kubernetes-validate, hadolint) and parses what they render."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.paths import ROOT

BIN = Path(sys.executable).parent
CHART = ROOT / "charts" / "videoanalysis"
NAMESPACE = "videoanalysis"
RELEASE = "va"
#: The values files the chart ships, by the name chart-check.sh gives their renders.
VALUES = {"default": None, "values-gpu": CHART / "values-gpu.yaml", "values-dev": CHART / "values-dev.yaml"}

Manifest = dict[str, Any]


def run(*cmd: str | Path, check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run a command from the repository root, text output captured."""
    proc = subprocess.run([str(c) for c in cmd], cwd=ROOT, capture_output=True, text=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def helm_template(*args: str, values: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`helm template va charts/videoanalysis` with extra args (and a values file)."""
    extra = ["-f", str(values)] if values else []
    return run(BIN / "helm", "template", RELEASE, CHART, "--namespace", NAMESPACE, *extra, *args, check=check)


def parse(text: str) -> list[Manifest]:
    """The non-empty YAML documents of a rendered stream."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render(*args: str, values: Path | None = None) -> list[Manifest]:
    return parse(helm_template(*args, values=values).stdout)


def find(docs: list[Manifest], kind: str, suffix: str = "") -> list[Manifest]:
    """Manifests of a kind whose name ends with suffix."""
    return [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(suffix)]


def one(docs: list[Manifest], kind: str, suffix: str = "") -> Manifest:
    found = find(docs, kind, suffix)
    assert len(found) == 1, f"expected one {kind} *{suffix}, got {[d['metadata']['name'] for d in found]}"
    return found[0]


def pod_spec(doc: Manifest) -> Manifest:
    """The pod spec of a Pod, Deployment, StatefulSet or Job."""
    return doc["spec"] if doc["kind"] == "Pod" else doc["spec"]["template"]["spec"]


def container_env(container: Manifest) -> dict[str, Any]:
    """name -> value (or the valueFrom mapping) of a container's env."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


#: The task id of the minimal resource `built_job` builds a Job for.
TASK_ID = "123e4567-e89b-12d3-a456-426614174000"


def operator_env(docs: list[Manifest]) -> dict[str, Any]:
    """The rendered operator container's env (plain values; valueFrom entries as dicts)."""
    return container_env(pod_spec(one(docs, "Deployment", "-operator"))["containers"][0])


def operator_settings(docs: list[Manifest], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """The operator's settings as its rendered Deployment gives them (the VA_ variables with
    plain values; the Secret-backed database URL is not needed to build a Job)."""
    from va_operator.config import OperatorSettings

    with monkeypatch.context() as patch:
        for name, value in operator_env(docs).items():
            if name.startswith("VA_") and not isinstance(value, dict):
                patch.setenv(name, value)
        patch.setenv("VA_DATA_DIR", str(tmp_path))
        return OperatorSettings()


def built_job(docs: list[Manifest], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Manifest:
    """The Job the rendered operator builds for a minimal resource."""
    from va_operator.builders import build_job
    from videoanalysis.k8s import names

    body = {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {"name": f"va-{TASK_ID}", "namespace": "videoanalysis", "uid": "u"},
        "spec": {"taskId": TASK_ID, "videoUri": "videos://a.mp4"},
        "status": {"taskId": TASK_ID},
    }
    return build_job(body, operator_settings(docs, monkeypatch, tmp_path))
