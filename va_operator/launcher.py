"""`python -m va_operator.launcher`, the operator's one start command (its image, the chart and
the tests run it): `kopf run -m va_operator.handlers` in this process, with the watched
namespaces, standalone or peering and the liveness endpoint taken from `OperatorSettings` (Kopf
reads those only at start).

Without VA_LEADER_ELECTION_LEASE it runs Kopf at once. With it, it first stands by until this
replica holds that Lease (`va_operator.leadership`), answering the liveness endpoint meanwhile
so the kubelet keeps the standby, then runs Kopf while a thread renews the Lease, and releases
the Lease when Kopf stops (SIGTERM) so a standby takes over at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

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


def run_kopf(args: list[str]) -> None:
    """`kopf run` in this process (Kopf's own command: its logging options, loader and loop);
    ends with SystemExit as the `kopf` command does."""
    from kopf import cli

    cli.main(args=args[1:], prog_name=args[0])


@contextmanager
def standby_liveness(endpoint: str) -> Iterator[None]:
    """Answer 200 on the liveness URL while standing by; the port is free again for Kopf after."""
    if not endpoint:
        yield
        return
    url = urlsplit(endpoint)
    path = url.path or "/"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path.split("?")[0] == path
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"standby": true}' if found else b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # probes every few seconds would drown the log

    server = ThreadingHTTPServer((url.hostname or "0.0.0.0", url.port or 80), Handler)
    thread = threading.Thread(target=server.serve_forever, name="standby-liveness", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Until Kopf installs its own handler: unwind, so a Lease taken meanwhile is released.
    raise SystemExit(128 + signum)


def run_elected(settings: OperatorSettings, args: list[str]) -> None:
    """Stand by until this replica holds the Lease, then run Kopf; release the Lease after."""
    import kopf

    from va_operator.leadership import LeaseElector

    kopf.configure()  # Kopf's log format for the standby's lines too
    elector = LeaseElector.from_settings(settings)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with standby_liveness(settings.liveness_endpoint):
            elector.acquire()
        elector.start_renewing()
        run_kopf(args)
    finally:
        elector.release()


def main() -> None:
    settings = OperatorSettings()
    args = kopf_run_args(settings)
    if settings.leader_election_lease:
        run_elected(settings, args)
    else:
        run_kopf(args)


if __name__ == "__main__":
    main()
