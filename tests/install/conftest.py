"""Fresh virtual environments, each installed by `scripts/install.sh DEPLOYABLE` exactly as its
image installs it, from a local wheel cache (only the package registries are reachable, and
a cache keeps the tests fast). The project itself is built into a wheel once per session, so
nothing here imports the source tree: each test starts the installed deployable from outside it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts" / "install.sh"
#: Dependency wheels kept between runs on one machine (gitignored); filled from the registry
#: the first time, then used offline.
WHEEL_CACHE = Path(os.environ.get("VA_WHEEL_CACHE", ROOT / ".cache" / "wheels"))
EXTRAS = "api,operator,job"
#: The tracker's wheel, which install.sh adds --no-deps (its pin, read from the recipe).
TRACKERS = re.search(r'^TRACKERS="(.+)"$', INSTALL.read_text(), re.M).group(1)  # type: ignore[union-attr]


def run(*cmd: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{cmd[0]} {cmd[1] if len(cmd) > 1 else ''} failed ({proc.returncode}):\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc.stdout


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout built into a wheel (no build isolation: the dev venv has setuptools)."""
    out = tmp_path_factory.mktemp("project-wheel")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", out, ROOT)
    (wheel,) = out.glob("videoanalysis-*.whl")
    return wheel


@pytest.fixture(scope="session")
def wheelhouse(project_wheel: Path) -> Path:
    """The cache holding every dependency of the CPU deployables: tried offline first, filled
    from the registry only when something is missing."""
    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "-w", WHEEL_CACHE, "--find-links", WHEEL_CACHE]
    target = f"{project_wheel}[{EXTRAS}]"
    for args in ([target], ["--no-deps", TRACKERS]):
        try:
            run(*pip, "--no-index", "--find-links", project_wheel.parent, *args)
        except AssertionError:
            run(*pip, "--find-links", project_wheel.parent, *args)
    for stale in WHEEL_CACHE.glob("videoanalysis-*.whl"):  # the project comes from project_wheel
        stale.unlink()
    return WHEEL_CACHE


@pytest.fixture(scope="session")
def install(tmp_path_factory: pytest.TempPathFactory, project_wheel: Path, wheelhouse: Path) -> Callable[[str], Path]:
    """`install("api")` → the `bin/` folder of a fresh venv holding that deployable."""
    made: dict[str, Path] = {}

    def make(deployable: str) -> Path:
        if deployable not in made:
            env_dir = tmp_path_factory.mktemp(f"venv-{deployable}")
            venv.create(env_dir, with_pip=True)
            python = env_dir / "bin" / "python"
            run(
                INSTALL,
                deployable,
                "--python",
                python,
                "--source",
                project_wheel,
                "--wheels",
                wheelhouse,
                "--wheels",
                project_wheel.parent,
            )
            made[deployable] = env_dir / "bin"
        return made[deployable]

    return make


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of an installed process: no VA_ settings, no PYTHONPATH from the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VA_") and k != "PYTHONPATH"}
    env.update(extra)
    return env
