"""The operator as a real process (`python -m va_operator.launcher`), started and stopped by
PID, and the session's own (`operator`), watching every `va-t-` namespace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.cluster import NAMESPACE_PREFIX
from tests.support.paths import ROOT
from tests.support.ports import answers, free_port


class OperatorProcess:
    """`python -m va_operator.launcher` (-> `kopf run -m va_operator.handlers`) as a child: the
    image's and the chart's start command (tests/shipping/test_operator_start.py)."""

    def __init__(self, env: dict[str, str], log_path: Path, python: str = sys.executable, cwd: Path = ROOT) -> None:
        self.env = {**os.environ, **env}
        self.log_path = log_path
        # Another environment's interpreter runs the operator it installed, away from the source
        # tree (`python -m` puts the working directory first on sys.path).
        self.python, self.cwd = python, cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.metrics_url = ""

    @property
    def command(self) -> list[str]:
        return [self.python, "-m", "va_operator.launcher"]

    def start(self) -> None:
        """Start it and wait until its liveness endpoint answers (handlers registered); its
        /metrics is on a free port too (`metrics_url`), up once the startup handler ran."""
        port, metrics_port = free_port(), free_port()
        self.env["VA_LIVENESS_ENDPOINT"] = f"http://127.0.0.1:{port}/healthz"
        self.env["VA_METRICS_PORT"] = str(metrics_port)
        self.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while not answers(f"http://127.0.0.1:{port}/healthz"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the operator did not start:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def scrape(self) -> str:
        """The text of the operator's /metrics."""
        with urllib.request.urlopen(self.metrics_url, timeout=5) as resp:
            return resp.read().decode()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


#: The API's public URL the test operators are given (status.resultUrl links there).
PUBLIC_URL = "https://va.example.test/"


def watch_env(database_url: str, namespaces: list[str], **extra: str) -> dict[str, str]:
    """An operator's settings: its database, the namespaces it watches, intervals of a second."""
    return {
        "VA_DATABASE_URL": database_url,
        "VA_WATCH_NAMESPACES": json.dumps(namespaces),
        "VA_PROGRESS_INTERVAL_S": "1",
        "VA_RETRY_DELAY_S": "1",
        "VA_REPAIR_INTERVAL_S": "1",
        "VA_PUBLIC_URL": PUBLIC_URL,
        **extra,
    }


@contextmanager
def running_operator(
    database_url: str,
    namespace_glob: str,
    log_path: Path,
    python: str = sys.executable,
    cwd: Path = ROOT,
    **extra_env: str,
) -> Iterator[OperatorProcess]:
    """A real operator process watching the namespaces matching `namespace_glob`."""
    proc = OperatorProcess(watch_env(database_url, [namespace_glob], **extra_env), log_path, python, cwd)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def operator(db: str, k8s_cluster: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorProcess]:
    """The operator watching every `va-t-` test namespace against the session database: one per
    session, so no test folder starts a second one on the same namespaces (it would race the
    first)."""
    with running_operator(db, f"{NAMESPACE_PREFIX}*", tmp_path_factory.mktemp("operator") / "operator.log") as proc:
        yield proc
