"""The install recipe the images run (`scripts/install.sh DEPLOYABLE`), its pins, and the
commands and environments the install tests run installed deployables with."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.support.paths import ROOT

INSTALL = ROOT / "scripts" / "install.sh"
#: Dependency wheels kept between runs on one machine, outside the checkout so that a fresh
#: clone (CI's) finds them too; filled from the registry the first time, then used offline.
WHEEL_CACHE = Path(os.environ.get("VA_WHEEL_CACHE", Path.home() / ".cache" / "videoanalysis" / "install-wheels"))
EXTRAS = "api,operator,job"
#: The tracker's wheel, which install.sh adds --no-deps (its pin, read from the recipe).
TRACKERS = re.search(r'^TRACKERS="(.+)"$', INSTALL.read_text(), re.M).group(1)  # type: ignore[union-attr]


def run(*cmd: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run a command; its stdout, or an AssertionError carrying the end of its output."""
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{cmd[0]} {cmd[1] if len(cmd) > 1 else ''} failed ({proc.returncode}):\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of an installed process: no VA_ settings, no PYTHONPATH from the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VA_") and k != "PYTHONPATH"}
    env.update(extra)
    return env
