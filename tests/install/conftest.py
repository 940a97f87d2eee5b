"""Fresh virtual environments, each installed by `scripts/install.sh DEPLOYABLE` exactly as its
image installs it, from a local wheel cache (only the package registries are reachable, and
a cache keeps the tests fast). The project itself is built into a wheel once per session, so
nothing here imports the source tree: each test starts the installed deployable from outside it.
"""

from __future__ import annotations

import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.install.recipe import EXTRAS, INSTALL, TRACKERS, WHEEL_CACHE, run
from tests.support.paths import ROOT


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
