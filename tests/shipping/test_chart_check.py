"""`make chart-check` inside `make test`, and proof that each of its checks can fail."""

from __future__ import annotations

from pathlib import Path

from tests.shipping.helm import BIN, CHART, ROOT, Manifest, helm_template, run


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


def test_chart_crds_are_generated_from_top_level_crds() -> None:
    for source in sorted((ROOT / "crds").glob("*.yaml")):
        copy = CHART / "crds" / source.name
        assert copy.exists(), f"{copy} missing: run scripts/chart-check.sh --sync-crds"
        header, _, body = copy.read_text().partition("\n")
        assert header.startswith("# GENERATED from crds/")
        assert body == source.read_text(), f"{copy} drifted from {source}"
    assert {p.name for p in (CHART / "crds").glob("*.yaml")} == {p.name for p in (ROOT / "crds").glob("*.yaml")}


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
