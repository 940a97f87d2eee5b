"""`python -m videoanalysis.k8s.launcher`: `kopf run operator/handlers.py` with the watched
namespaces and peering taken from `OperatorSettings` (Kopf reads those only at start)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from videoanalysis.k8s.config import OperatorSettings

HANDLERS = Path(__file__).resolve().parents[2] / "operator" / "handlers.py"


def kopf_run_args(settings: OperatorSettings, handlers: Path = HANDLERS) -> list[str]:
    """The `kopf run ...` command line for these settings (pure; unit-tested)."""
    args = ["kopf", "run", str(handlers)]
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
