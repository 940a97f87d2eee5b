"""`python -m va_operator.launcher`: `kopf run -m va_operator.handlers` with the watched
namespaces and peering taken from `OperatorSettings` (Kopf reads those only at start)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from va_operator.config import OperatorSettings

HANDLERS_MODULE = "va_operator.handlers"


def kopf_run_args(settings: OperatorSettings, module: str = HANDLERS_MODULE) -> list[str]:
    """The `kopf run -m ...` command line for these settings (pure; unit-tested)."""
    args = ["kopf", "run", "-m", module]
    if settings.clusterwide:
        args.append("--all-namespaces")
    else:
        for namespace in settings.namespaces:
            args += ["--namespace", namespace]
    args += ["--peering", settings.peering_name] if settings.peering_name else ["--standalone"]
    if settings.liveness_endpoint:
        args += ["--liveness", settings.liveness_endpoint]
    return args


def main() -> None:
    args = kopf_run_args(OperatorSettings())
    kopf = Path(sys.executable).with_name("kopf")
    os.execv(str(kopf) if kopf.exists() else args[0], args)


if __name__ == "__main__":
    main()
