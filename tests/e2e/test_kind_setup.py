"""What of `make e2e-kind` can be checked without Docker: the kind config, the kind values (helm
lint/template + kubernetes-validate --strict), the videos PV that binds the chart's claim, the
script's plan and prerequisite check, and shellcheck on every shell script of the project."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.helm import BIN, container_env, find, one, parse, pod_spec, run
from tests.support.paths import ROOT

E2E = ROOT / "tests" / "e2e"
SCRIPT = ROOT / "scripts" / "e2e-kind.sh"
KUBE_VERSION = "1.34.0"  # the schemas scripts/chart-check.sh validates the chart against


def plan() -> dict[str, str]:
    """`scripts/e2e-kind.sh --plan`: the names the script will use (no Docker needed)."""
    out = run(SCRIPT, "--plan").stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def kind_render(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The chart rendered as the script installs it; validated against the Kubernetes schemas."""
    p = plan()
    run(
        BIN / "helm",
        "lint",
        "--strict",
        ROOT / "charts" / "videoanalysis",
        "-f",
        ROOT / p["values"],
        "--namespace",
        p["namespace"],
    )
    text = run(
        BIN / "helm",
        "template",
        p["release"],
        ROOT / "charts" / "videoanalysis",
        "--namespace",
        p["namespace"],
        "-f",
        ROOT / p["values"],
        "--include-crds",
    ).stdout
    out = tmp_path_factory.mktemp("kind") / "render.yaml"
    out.write_text(text)
    run(
        BIN / "kubernetes-validate",
        "--strict",
        "--kubernetes-version",
        KUBE_VERSION,
        "--quiet",
        out,
        ROOT / p["videos_pv"],
    )
    return parse(text)


def test_kind_config_has_what_kind_needs() -> None:
    config = load(E2E / "kind.yaml")
    assert config["kind"] == "Cluster" and config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    [node] = config["nodes"]
    assert node["role"] == "control-plane"
    [mount] = node["extraMounts"]
    assert Path(mount["hostPath"]).is_absolute() and Path(mount["containerPath"]).is_absolute()
    p = plan()  # the folder the script creates, and the one it empties in the node at teardown
    assert (p["videos_host_dir"], p["videos_node_dir"]) == (mount["hostPath"], mount["containerPath"])


def test_videos_pv_binds_the_charts_claim_on_the_mount(kind_render: list[dict[str, Any]]) -> None:
    pv, p = load(E2E / "videos-pv.yaml"), plan()
    [mount] = load(E2E / p["kind_config"].removeprefix("tests/e2e/"))["nodes"][0]["extraMounts"]
    claim = one(kind_render, "PersistentVolumeClaim", "-videos")
    assert pv["kind"] == "PersistentVolume" and pv["spec"]["hostPath"]["path"] == mount["containerPath"]
    assert pv["spec"]["claimRef"] == {"namespace": p["namespace"], "name": claim["metadata"]["name"]}
    assert claim["spec"]["storageClassName"] == pv["spec"]["storageClassName"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"] == pv["spec"]["accessModes"]
    assert claim["spec"]["resources"]["requests"]["storage"] == pv["spec"]["capacity"]["storage"]


def test_kind_values_run_on_cpu_with_the_loaded_images(kind_render: list[dict[str, Any]]) -> None:
    p = plan()
    containers = [
        c
        for d in kind_render
        if d["kind"] in ("Deployment", "StatefulSet", "Job", "Pod")
        for c in pod_spec(d)["containers"]
    ]
    assert {c["imagePullPolicy"] for c in containers} == {"Never"}
    operator = one(kind_render, "Deployment", "-operator")["spec"]["template"]["spec"]["containers"][0]
    env = container_env(operator)
    rendered = {c["image"] for c in containers} | {env["VA_JOB_IMAGE"]}
    assert rendered == set(p["images"].split()) | set(p["pulled_images"].split())
    assert env["VA_IMAGE_PULL_POLICY"] == "Never"
    assert json.loads(env["VA_JOB_DEFAULTS"])["gpus"] == 0
    api = container_env(one(kind_render, "Deployment", "-api")["spec"]["template"]["spec"]["containers"][0])
    assert api["VA_DEFAULT_MODEL"] == "opencv-face" and api["VA_DISPATCHER"] == "kubernetes"
    assert find(kind_render, "StatefulSet", "-postgresql")
    assert "--build-arg MODEL=opencv-face" in SCRIPT.read_text()


def test_script_names_every_missing_prerequisite(tmp_path: Path) -> None:
    """Without docker, kind or the venv it stops before building anything and names them all
    (kubectl and helm are found in .venv/bin, where scripts/install-helm.sh puts them)."""
    bare = tmp_path / "bin"
    bare.mkdir()
    for name in ("bash", "sed", "head", "dirname", "tr", "sort", "grep"):
        (bare / name).symlink_to(shutil.which(name))
    env = {**os.environ, "PATH": str(bare), "PY": str(tmp_path / "no-python")}
    proc = run(SCRIPT, check=False, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    for what in ("docker:", "kind:", "no-python"):
        assert what in proc.stderr, proc.stderr
    assert proc.stdout == ""  # nothing was built or created


def shell_scripts() -> list[Path]:
    return sorted(p for p in (ROOT / "scripts").rglob("*.sh"))


def test_shell_scripts_pass_shellcheck() -> None:
    """Every project script at warning level; scripts/e2e-kind.sh with no finding at all."""
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: make test-prereqs installs Debian's shellcheck"
    assert SCRIPT in shell_scripts()
    run(shellcheck, "--severity=warning", *shell_scripts())
    run(shellcheck, SCRIPT)
