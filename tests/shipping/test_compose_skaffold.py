"""docker-compose-develop.yml and skaffold.yaml: parsed, validated where a validator exists here,
and checked against the chart and the settings classes they feed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from compose_spec import PyOptions

from api.config import ApiSettings
from tests.shipping.helm import CHART, ROOT, container_env, one, pod_spec, render, run

COMPOSE = ROOT / "docker-compose-develop.yml"
SKAFFOLD = ROOT / "skaffold.yaml"


def _compose() -> dict[str, Any]:
    parsed = PyOptions(apply_merge=True).from_yaml(COMPOSE.read_text())
    parsed.validate()  # compose-spec bindings: every volume/network reference is defined
    return parsed.to_dict()


def test_compose_validates_and_runs_the_stack_without_a_cluster() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "migrate", "api"}
    assert "pg_isready" in str(services["postgres"]["healthcheck"]["test"])
    api = services["api"]
    assert api["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "--reload" in api["command"] and "--factory" in api["command"]
    assert api["environment"]["VA_DISPATCHER"] == "local"
    mounts = {m["target"] if isinstance(m, dict) else m.split(":")[1] for m in api["volumes"]}
    assert {"/app/api", "/app/videoanalysis", "/app/inference_job", "/data/videos"} <= mounts
    assert services["migrate"]["command"][:3] == ["python", "-m", "videoanalysis.migrate"]


def test_compose_api_settings_are_names_the_api_reads() -> None:
    env = _compose()["services"]["api"]["environment"]
    names = {f"VA_{n.upper()}" for n in ApiSettings.model_fields}
    assert {k for k in env if k.startswith("VA_")} <= names
    ApiSettings(**{k[3:].lower(): v for k, v in env.items() if k.startswith("VA_")})  # would raise if invalid


def test_docker_compose_config_rejects_an_undefined_volume(tmp_path: Path) -> None:
    """The `docker-compose config` step of chart-check can fail (Debian's 1.29: no engine needed)."""
    bad = tmp_path / "compose.yml"
    bad.write_text(COMPOSE.read_text().replace("      - videos:/data/videos", "      - nosuch:/data/videos"))
    proc = run("docker-compose", "-f", bad, "config", "--quiet", check=False)
    assert proc.returncode != 0 and "nosuch" in proc.stderr


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
