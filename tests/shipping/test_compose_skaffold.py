"""docker-compose-develop.yml and skaffold.yaml: parsed, validated where a validator exists here,
and checked against the chart and the settings classes they feed. The compose file is read
through scripts/compose-check, Docker Compose v2's own loader (compose-go)."""

from __future__ import annotations

import functools
import json
import shlex
from pathlib import Path
from typing import Any

import yaml

from api.config import ApiSettings
from tests.support.helm import CHART, container_env, helm_template, one, parse, pod_spec, render, run
from tests.support.paths import ROOT

COMPOSE = ROOT / "docker-compose-develop.yml"
SKAFFOLD = ROOT / "skaffold.yaml"


@functools.cache
def compose_check() -> Path:
    """The checker's binary, built (once, cached across runs) by its ensure script."""
    return Path(run(ROOT / "scripts" / "compose-check" / "ensure.sh").stdout.strip())


def _compose() -> dict[str, Any]:
    """The project as Compose v2 loads it (interpolated, normalized, paths resolved)."""
    return json.loads(run(compose_check(), "-json", COMPOSE).stdout)


def test_compose_validates_and_runs_the_stack_without_a_cluster() -> None:
    project = _compose()
    assert project["name"] == "videoanalysis-dev"  # the same volumes whatever the checkout's folder
    services = project["services"]
    assert set(services) == {"postgres", "migrate", "api"}
    api = services["api"]
    assert api["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "--reload" in api["command"] and "--factory" in api["command"]
    assert api["environment"]["VA_DISPATCHER"] == "local"
    assert {"/app/api", "/app/videoanalysis", "/app/inference_job", "/data/videos"} <= {
        m["target"] for m in api["volumes"]
    }
    assert services["migrate"]["command"][:3] == ["python", "-m", "videoanalysis.migrate"]
    assert "/readyz" in " ".join(api["healthcheck"]["test"])  # healthy once the schema is current


def test_compose_builds_the_images_it_does_not_pull() -> None:
    """Every service of our own image builds it (from api/Dockerfile at the repository root), so
    `up` never tries to pull `videoanalysis-api:dev`, whichever service starts first."""
    services = _compose()["services"]
    ours = {name for name, service in services.items() if service["image"].startswith("videoanalysis-")}
    assert ours == {"migrate", "api"}
    for name in ours:
        build = services[name]["build"]
        assert (Path(build["context"]), build["dockerfile"]) == (ROOT, "api/Dockerfile"), name
        assert (ROOT / build["dockerfile"]).is_file()
        assert services[name]["image"] == "videoanalysis-api:dev"
    assert "build" not in services["postgres"] and ":" in services["postgres"]["image"]


def test_compose_checks_postgresql_over_tcp_as_the_chart_does() -> None:
    """A socket check passes while a new volume's server is initialised and refuses TCP."""
    compose = _compose()["services"]["postgres"]["healthcheck"]["test"]
    assert compose[0] == "CMD-SHELL"
    compose_args = shlex.split(compose[1])
    chart = parse(helm_template("--show-only", "templates/postgresql.yaml").stdout)
    container = pod_spec(one(chart, "StatefulSet", "-postgresql"))["containers"][0]
    chart_args = shlex.split(container["readinessProbe"]["exec"]["command"][-1])
    for args in (compose_args, chart_args):
        assert args[0] == "pg_isready" and args[args.index("-h") + 1] == "127.0.0.1", args


def test_compose_api_settings_are_names_the_api_reads() -> None:
    env = _compose()["services"]["api"]["environment"]
    names = {f"VA_{n.upper()}" for n in ApiSettings.model_fields}
    assert {k for k in env if k.startswith("VA_")} <= names
    ApiSettings(**{k[3:].lower(): v for k, v in env.items() if k.startswith("VA_")})  # would raise if invalid


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = COMPOSE.read_text()
    assert old in text
    bad = tmp_path / "compose.yml"
    bad.write_text(text.replace(old, new, 1))
    return bad


def test_compose_check_refuses_a_broken_file_with_compose_gos_message(tmp_path: Path) -> None:
    """The compose step of chart-check can fail: an unknown key (the schema), a bad type (the
    binding to Compose's types) and an undefined volume (the consistency check)."""
    cases = {
        "unknown key": (
            "  migrate:\n",
            "  migrate:\n    buidl: .\n",
            "services.migrate.buidl false schema",
        ),
        "bad type": (
            "      retries: 30\n",
            "      retries: thirty\n",
            'services.postgres.healthcheck.retries: failed to cast to expected type: strconv.Atoi: parsing "thirty"',
        ),
        "undefined volume": (
            "      - videos:/data/videos\n",
            "      - nosuch:/data/videos\n",
            'service "api" refers to undefined volume nosuch',
        ),
    }
    for case, (old, new, message) in cases.items():
        proc = run(compose_check(), _broken(tmp_path, old, new), check=False)
        assert proc.returncode == 1, case
        assert message in proc.stderr, (case, proc.stderr)
    assert run(compose_check(), COMPOSE).stdout.startswith("compose-check: ")


def _skaffold() -> dict[str, Any]:
    return yaml.safe_load(SKAFFOLD.read_text())


def _resolve(doc: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def test_skaffold_builds_the_three_images_and_deploys_the_chart() -> None:
    config = _skaffold()
    assert config["apiVersion"].startswith("skaffold/v4") and config["kind"] == "Config"
    artifacts = {a["image"]: a for a in config["build"]["artifacts"]}
    assert set(artifacts) == {"videoanalysis-api", "videoanalysis-operator", "videoanalysis-job"}
    for artifact in artifacts.values():
        assert (ROOT / artifact.get("context", ".") / artifact["docker"]["dockerfile"]).is_file()
    release = config["deploy"]["helm"]["releases"][0]
    assert (ROOT / release["chartPath"]) == CHART
    assert all((ROOT / v).is_file() for v in release["valuesFiles"])
    for key, template in release["setValueTemplates"].items():
        component, _, field = key.split(".")
        image = f"videoanalysis_{component}"
        assert (
            template
            == (
                {
                    "repository": f"{{{{.IMAGE_REPO_{image}}}}}",
                    "tag": f"{{{{.IMAGE_TAG_{image}}}}}@{{{{.IMAGE_DIGEST_{image}}}}}",
                }[field]
            )
        )
        assert f"videoanalysis-{component}" in artifacts


def test_skaffold_values_render_the_images_it_builds() -> None:
    """The chart rendered as skaffold would call it (its templates filled with sample values)."""
    release = _skaffold()["deploy"]["helm"]["releases"][0]
    args = ["--namespace", release["namespace"]]
    for key, value in release["setValues"].items():
        args += ["--set", f"{key}={value}"]
    for key in release["setValueTemplates"]:
        component, _, field = key.split(".")
        args += [
            "--set-string",
            f"{key}={'localhost:5000/videoanalysis-' + component if field == 'repository' else 'abc123@sha256:0f'}",
        ]
    docs = render(*args, values=ROOT / release["valuesFiles"][0])
    api = pod_spec(one(docs, "Deployment", "-api"))["containers"][0]
    assert api["image"] == "localhost:5000/videoanalysis-api:abc123@sha256:0f"
    operator_env = container_env(pod_spec(one(docs, "Deployment", "-operator"))["containers"][0])
    assert operator_env["VA_JOB_IMAGE"] == "localhost:5000/videoanalysis-job:abc123@sha256:0f"


def test_skaffold_profiles_patch_paths_exist() -> None:
    config = _skaffold()
    profiles = {p["name"]: p for p in config["profiles"]}
    assert set(profiles) == {"local", "gpu"}
    for profile in profiles.values():
        for patch in profile["patches"]:
            assert patch["op"] in ("replace", "add", "remove")
            _resolve(config, patch["path"])  # KeyError/IndexError: a patch aiming at nothing
    gpu = {p["path"]: p["value"] for p in profiles["gpu"]["patches"]}
    assert gpu["/build/artifacts/2/docker/buildArgs/MODEL"] == "detectron2"
    assert (ROOT / gpu["/deploy/helm/releases/0/valuesFiles/0"]).is_file()
    assert _resolve(config, "/build/artifacts/2/image") == "videoanalysis-job"
    forward = config["portForward"][0]
    assert forward["resourceName"] == "videoanalysis-api"  # release "videoanalysis" -> fullname "videoanalysis"
