"""`make chart-check` inside `make test`, and proof that each of its checks can fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.support.helm import BIN, CHART, RELEASE, Manifest, helm_template, parse, run
from tests.support.paths import ROOT


def test_chart_check_passes_and_renders_every_values_file(renders: dict[str, list[Manifest]]) -> None:
    for name, docs in renders.items():
        kinds = {d["kind"] for d in docs}
        assert {
            "CustomResourceDefinition",
            "Deployment",
            "Service",
            "Role",
            "RoleBinding",
            "ServiceAccount",
            "Job",
            "Pod",
        } <= kinds, name


def test_kubernetes_validate_strict_rejects_an_unknown_field(tmp_path: Path) -> None:
    text = helm_template("--show-only", "templates/api-service.yaml").stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("  type: ClusterIP", "  type: ClusterIP\n  typo: 1"))
    proc = run(BIN / "kubernetes-validate", "--strict", "-k", "1.34.0", bad, check=False)
    assert proc.returncode != 0 and "typo" in proc.stdout + proc.stderr


def test_hadolint_fails_an_unpinned_root_image(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\n")
    proc = run(BIN / "hadolint", "--no-color", bad, check=False)
    assert proc.returncode != 0
    assert "DL3007" in proc.stdout and "DL3013" in proc.stdout


def test_chart_crd_is_rendered_from_the_top_level_crd() -> None:
    """One source of truth: the chart's CRD template, generated from crds/videoanalysis.yaml, renders
    that CRD with only the chart's labels and the keep annotation added; no crds/ folder (Helm would
    install it once and never upgrade it)."""
    template = CHART / "templates" / "crd-videoanalysis.yaml"
    assert template.read_text().startswith("{{- /* GENERATED from crds/videoanalysis.yaml by scripts/chart-check.sh")
    assert not (CHART / "crds").exists()
    [rendered] = parse(helm_template("--show-only", "templates/crd-videoanalysis.yaml").stdout)
    labels = rendered["metadata"].pop("labels")
    assert labels["app.kubernetes.io/managed-by"] == "Helm" and labels["app.kubernetes.io/instance"] == RELEASE
    assert rendered["metadata"].pop("annotations") == {"helm.sh/resource-policy": "keep"}
    assert rendered == yaml.safe_load((ROOT / "crds" / "videoanalysis.yaml").read_text())
    assert sorted(p.name for p in (ROOT / "crds").iterdir()) == ["videoanalysis.yaml"], "the sync knows one CRD"


def test_chart_check_fails_on_a_drifted_crd_template_or_a_crds_folder(tmp_path: Path) -> None:
    """Step 2 on a copy of the repository: an edited template fails, --sync-crds regenerates the
    committed one, and a chart crds/ folder fails."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    for name in (".venv", "api", "operator", "inference_job", "crds"):
        (repo / name).symlink_to(ROOT / name)
    shutil.copy(ROOT / "scripts" / "chart-check.sh", repo / "scripts")
    shutil.copytree(CHART, repo / "charts" / "videoanalysis")
    template = repo / "charts" / "videoanalysis" / "templates" / "crd-videoanalysis.yaml"
    template.write_text(template.read_text().replace("resource-policy: keep", "resource-policy: delete"))
    drifted = run(repo / "scripts" / "chart-check.sh", check=False)
    assert drifted.returncode != 0 and "drifted from crds/videoanalysis.yaml" in drifted.stderr
    run(repo / "scripts" / "chart-check.sh", "--sync-crds")
    assert template.read_text() == (CHART / "templates" / "crd-videoanalysis.yaml").read_text()
    (repo / "charts" / "videoanalysis" / "crds").mkdir()
    folder = run(repo / "scripts" / "chart-check.sh", check=False)
    assert folder.returncode != 0 and "videoanalysis/crds exists" in folder.stderr


def test_values_schema_refuses_bad_values_with_the_path() -> None:
    cases = {
        "job.gpuCount=20": "/job/gpuCount",
        "secret.secretKey=tooshort": "/secret/secretKey",
        "api.service.type=Magic": "/api/service/type",
        "storage.size=lots": "/storage/size",
        "nosuchvalue=1": "nosuchvalue",
    }
    for setting, path in cases.items():
        proc = helm_template("--set", setting, check=False)
        assert proc.returncode != 0, setting
        assert path in proc.stderr, (setting, proc.stderr)


def test_no_database_is_a_clear_error() -> None:
    proc = helm_template("--set", "postgresql.enabled=false", check=False)
    assert proc.returncode != 0
    assert "secret.databaseUrl" in proc.stderr and "secret.existingSecret" in proc.stderr


def test_every_value_has_a_comment() -> None:
    """Each leaf of values*.yaml is commented on its own line or on an enclosing key's."""
    for path in sorted(CHART.glob("values*.yaml")):
        missing = _uncommented_leaves(path.read_text().splitlines())
        assert not missing, f"{path.name}: values without a comment: {missing}"


def _uncommented_leaves(lines: list[str]) -> list[str]:
    stack: list[tuple[int, str, bool]] = []  # (indent, key, commented)
    missing, previous = [], ""
    for raw in lines:
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped or stripped.startswith(("- ", "#")) or ":" not in stripped:
            previous = stripped if stripped.startswith("#") else (previous if not stripped else "")
            continue
        indent = len(line) - len(stripped)
        key, _, rest = stripped.partition(":")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        commented = previous.startswith("#") or any(c for _, _, c in stack)
        if rest.strip() and not commented:
            missing.append(".".join([k for _, k, _ in stack] + [key]))
        stack.append((indent, key, previous.startswith("#")))
        previous = stripped
    return missing


def test_notes_say_how_to_reach_the_api_and_watch_analyses(tmp_path: Path) -> None:
    """NOTES.txt as `helm install` prints it (client-side dry run: no cluster contacted)."""
    env = {"KUBECONFIG": str(tmp_path / "none"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for values, expected in (
        (None, "kubectl port-forward --namespace videoanalysis svc/va-videoanalysis-api 8000:80"),
        (CHART / "values-gpu.yaml", "https://videoanalysis.example.com/docs"),
    ):
        args = ["-f", str(values)] if values else []
        proc = run(BIN / "helm", "install", "va", CHART, "-n", "videoanalysis", "--dry-run=client", *args, env=env)
        notes = proc.stdout.partition("NOTES:")[2]
        assert expected in notes
        assert "kubectl get va --namespace videoanalysis -w" in notes
        assert ("bundled PostgreSQL" in notes) is (values is None)
        assert ("`helm uninstall` leaves it" in notes) is (values is None)  # values-gpu: existingSecret
