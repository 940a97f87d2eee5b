"""The test control plane and the operator as processes the tests start and stop by PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kubernetes import client

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "k8s-test-cluster.sh"
KUBECTL = Path(sys.executable).with_name("kubectl")
#: The namespaces the session's operator watches (tests/k8s and tests/chaos make them).
NAMESPACE_PREFIX = "va-t-"


def start_cluster(state_dir: Path) -> Path:
    """etcd + kube-apiserver + kube-controller-manager; returns the kubeconfig."""
    out = subprocess.run([str(SCRIPT), "start", str(state_dir)], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def stop_cluster(state_dir: Path) -> None:
    subprocess.run([str(SCRIPT), "stop", str(state_dir)], check=False, capture_output=True)


def kubectl(*args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the venv's kubectl against $KUBECONFIG (the test cluster)."""
    return subprocess.run([str(KUBECTL), *args], check=check, capture_output=True, text=True, input=input)


class OperatorProcess:
    """`python -m va_operator.launcher` (-> `kopf run -m va_operator.handlers`) as a child."""

    def __init__(self, env: dict[str, str], log_path: Path, python: str = sys.executable, cwd: Path = ROOT) -> None:
        self.env = {**os.environ, **env}
        self.log_path = log_path
        # Another environment's interpreter runs the operator it installed, away from the source
        # tree (`python -m` puts the working directory first on sys.path).
        self.python, self.cwd = python, cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.metrics_url = ""

    def start(self) -> None:
        """Start it and wait until its liveness endpoint answers (handlers registered); its
        /metrics is on a free port too (`metrics_url`), up once the startup handler ran."""
        port, metrics_port = free_port(), free_port()
        self.env["VA_LIVENESS_ENDPOINT"] = f"http://127.0.0.1:{port}/healthz"
        self.env["VA_METRICS_PORT"] = str(metrics_port)
        self.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [self.python, "-m", "va_operator.launcher"],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while not _answers(f"http://127.0.0.1:{port}/healthz"):
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


#: The API's public URL the test operators are given (status.resultUrl links there).
PUBLIC_URL = "https://va.example.test/"


def watch_env(database_url: str, namespaces: list[str], **extra: str) -> dict[str, str]:
    return {
        "VA_DATABASE_URL": database_url,
        "VA_WATCH_NAMESPACES": json.dumps(namespaces),
        "VA_PROGRESS_INTERVAL_S": "1",
        "VA_RETRY_DELAY_S": "1",
        "VA_REPAIR_INTERVAL_S": "1",
        "VA_PUBLIC_URL": PUBLIC_URL,
        **extra,
    }


def create_namespace(kube: client.ApiClient, prefix: str, database_url: str) -> str:
    """A fresh namespace with its default service account and the Job's database Secret."""
    core = client.CoreV1Api(kube)
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    deadline = time.monotonic() + 20
    # Pods are admitted only once the namespace's default service account exists.
    while not core.list_namespaced_service_account(name, field_selector="metadata.name=default").items:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no default service account in {name}")
        time.sleep(0.2)
    core.create_namespaced_secret(name, {"metadata": {"name": "videoanalysis-db"}, "stringData": {"url": database_url}})
    return name


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
