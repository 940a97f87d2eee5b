"""The Dockerfiles (no engine here: hadolint runs in chart-check; these check the contract)."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.support.helm import CHART, one, pod_spec, render
from tests.support.paths import ROOT

DOCKERFILES = {name: ROOT / name / "Dockerfile" for name in ("api", "operator", "inference_job")}


def _instructions(path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_final_stage_is_non_root_on_a_pinned_base(name: str) -> None:
    steps = _instructions(DOCKERFILES[name])
    args = dict(a.split("=", 1) for w, a in steps if w == "ARG" and "=" in a)
    base = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base), base
    final = max(i for i, (w, _) in enumerate(steps) if w == "FROM")
    users = [a for w, a in steps[final:] if w == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert re.fullmatch(r"\d+:\d+", users[-1]), "numeric USER so runAsNonRoot can verify it"
    assert sum(w in ("CMD", "ENTRYPOINT") for w, _ in steps[final:]) == 1  # one process


def test_inference_image_installs_the_model_with_the_projects_own_script() -> None:
    text = (DOCKERFILES["inference_job"]).read_text()
    assert "ARG MODEL=detectron2" in text
    assert "scripts/install.sh detectron2 --python /opt/venv/bin/python" in text
    assert "scripts/install.sh job --python /opt/venv/bin/python" in text
    assert "check_installed" in text  # the build fails on a MODEL the catalogue does not know
    assert "WEIGHTS_URL" in text and "VA_MODEL_WEIGHTS=/opt/models/model_final.pkl" in text
    assert "sha256=sys.argv[2]" in text and "ARG WEIGHTS_SHA256" in text  # baked weights are checked too
    steps = _instructions(DOCKERFILES["inference_job"])
    assert steps[-1] == ("ENTRYPOINT", '["python", "-m", "inference_job"]')


def test_inference_image_default_weights_path_matches_the_chart() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["job"]["modelWeights"] == "/opt/models/model_final.pkl"
    assert "/opt/models/model_final.pkl" in (DOCKERFILES["inference_job"]).read_text()


def test_health_endpoints_agree_with_the_chart() -> None:
    api = _instructions(DOCKERFILES["api"])
    assert ("EXPOSE", "8000") in api and any(w == "HEALTHCHECK" and "/healthz" in a for w, a in api)
    assert ("CMD", '["python", "-m", "api"]') in api
    operator = _instructions(DOCKERFILES["operator"])
    assert ("CMD", '["python", "-m", "va_operator.launcher"]') in operator  # the chart's too: test_operator_start
    assert "VA_LIVENESS_ENDPOINT=http://0.0.0.0:8080/healthz" in " ".join(a for w, a in operator if w == "ENV")
    docs = render()
    chart_port = pod_spec(one(docs, "Deployment", "-operator"))["containers"][0]["ports"][0]["containerPort"]
    assert chart_port == 8080 and ("EXPOSE", "8080") in operator
    assert (ROOT / "operator" / "handlers.py").exists()


@pytest.mark.parametrize(("name", "deployable"), [("api", "api"), ("operator", "operator")])
def test_each_image_installs_with_the_recipe_the_install_tests_run(name: str, deployable: str) -> None:
    runs = " ".join(a for w, a in _instructions(DOCKERFILES[name]) if w == "RUN")
    assert f"scripts/install.sh {deployable} --python /opt/venv/bin/python" in runs


def test_migrations_ship_in_the_package_the_hook_runs() -> None:
    migrate = pod_spec(one(render(), "Job", "-migrate"))["containers"][0]["command"]
    assert migrate == ["python", "-m", "videoanalysis.migrate"]  # from the installed package
    assert sorted((ROOT / "videoanalysis" / "migrations" / "models").glob("0_*.py"))


def test_dockerignore_keeps_secrets_and_the_venv_out() -> None:
    patterns = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "data", ".env", "tests"} <= patterns
