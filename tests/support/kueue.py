"""Kueue's own controller binary (scripts/k8s/ADDONS) beside the test control plane, as a
process started and stopped by PID, the way the control plane's parts are.

Outside a cluster Kueue needs what its Deployment would get from its manifests:
- its CRDs (the module's config/components/crd/bases, applied server-side: the Workload CRD
  is too large for kubectl's last-applied annotation) and the `kueue-system` namespace;
- a Configuration with the webhook server on 127.0.0.1 and a certificate for that address
  signed by a CA of our own (internal cert management would make one for the in-cluster
  Service name), leader election off, metrics off, only the `batch/job` integration, and
  `manageJobsWithoutQueueName: false` so Jobs without a queue label pass untouched;
- its webhook configurations with `clientConfig.url` pointing at that server, trimmed to the
  webhooks of Jobs and of Kueue's own kinds: the rest (Pods, Deployments...) serve disabled
  integrations and would put every Pod the other tests make through a webhook;
- the visibility API off (`VisibilityOnDemand=false`): the binary never registers its
  APIService (a manifest does), and the gate keeps it from binding port 8082 as well;
- a metrics certificate at the path the binary reads unconditionally when internal cert
  management is off (`/etc/kueue/metrics/certs`), though the metrics server is off.

`stop` deletes the webhook configurations before it ends the process, so creating Jobs in
the cluster works again once Kueue is gone. By hand:

    python -m tests.support.kueue start <cluster-dir>    # the dir of scripts/k8s-test-cluster.sh
    python -m tests.support.kueue stop <cluster-dir>
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.support.cluster import KUBECTL
from tests.support.paths import ROOT
from tests.support.ports import answers, free_port

ADDONS = ROOT / "scripts" / "k8s" / "ADDONS"
NAMESPACE = "kueue-system"
GROUP, VERSION = "kueue.x-k8s.io", "v1beta2"
#: Where the binary reads a metrics certificate whenever internal cert management is off.
METRICS_CERTS = Path("/etc/kueue/metrics/certs")
#: Webhook paths kept: those of batch/v1 Jobs and of Kueue's own kinds.
SERVED_PATHS = ("-batch-v1-job", "-kueue-x-k8s-io-")
#: The configurations `webhook_configurations` makes (the manifests' names, `kueue-` prefixed).
WEBHOOK_CONFIGS = (
    "mutatingwebhookconfiguration/kueue-mutating-webhook-configuration",
    "validatingwebhookconfiguration/kueue-validating-webhook-configuration",
)


def module_dir() -> Path:
    """The Kueue module's source (CRDs and webhook manifests) in the Go module cache, where
    scripts/k8s/ensure-addons.sh downloaded it to build the binary (`go mod download` again
    only when the cache was moved or cleaned)."""
    [(module, version)] = [tuple(f[1:3]) for f in map(str.split, ADDONS.read_text().splitlines()) if f[:1] == ["kueue"]]
    cache = Path(os.environ.get("GOMODCACHE") or Path.home() / "go" / "pkg" / "mod")
    if (cache / f"{module}@{version}" / "config").is_dir():
        return cache / f"{module}@{version}"
    out = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], check=True, capture_output=True)
    return Path(json.loads(out.stdout)["Dir"])


def webhook_configurations(manifests: str, url: str, ca_bundle: str) -> list[dict[str, Any]]:
    """The module's webhook configurations calling `url` + each webhook's path, trusting
    `ca_bundle` (base64 PEM), named as a release install names them (`kueue-` prefix)."""
    configs = []
    for doc in yaml.safe_load_all(manifests):
        if not doc:
            continue
        hooks = []
        for hook in doc["webhooks"]:
            path = hook["clientConfig"]["service"]["path"]
            if any(part in path for part in SERVED_PATHS):
                hooks.append({**hook, "clientConfig": {"url": url + path, "caBundle": ca_bundle}})
        configs.append({**doc, "metadata": {"name": f"kueue-{doc['metadata']['name']}"}, "webhooks": hooks})
    return configs


def _openssl(command: str, cwd: Path) -> None:
    subprocess.run(["openssl", *command.split()], cwd=cwd, check=True, capture_output=True)


def make_certs(state: Path) -> None:
    """A CA (ca.crt) and a serving certificate for 127.0.0.1 it signed (certs/tls.{crt,key},
    the file names controller-runtime's webhook server reads from its certDir)."""
    (state / "certs").mkdir(parents=True, exist_ok=True)
    _openssl("req -x509 -new -nodes -newkey rsa:2048 -keyout ca.key -out ca.crt -subj /CN=kueue-test-ca -days 2", state)
    (state / "tls.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n"
    )
    _openssl("req -new -nodes -newkey rsa:2048 -keyout certs/tls.key -out tls.csr -subj /CN=kueue-webhook", state)
    _openssl(
        "x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile tls.ext -out certs/tls.crt",
        state,
    )


def ensure_metrics_certs(source: Path) -> None:
    """Some certificate at METRICS_CERTS (any will do: nothing serves it); written once,
    atomically, so two sessions starting Kueue at once both find a whole pair."""
    if (METRICS_CERTS / "tls.crt").exists():
        return
    try:
        METRICS_CERTS.parent.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=METRICS_CERTS.parent))
        for name in ("tls.crt", "tls.key"):
            shutil.copy(source / name, staged / name)
        try:
            staged.rename(METRICS_CERTS)
        except OSError:  # another session put one there first
            shutil.rmtree(staged)
    except PermissionError as exc:
        raise RuntimeError(
            f"Kueue reads a metrics certificate from {METRICS_CERTS} when its internal cert management "
            f"is off, and this user cannot write it: {exc}"
        ) from exc


def configuration(state: Path, webhook_port: int, health_port: int) -> dict[str, Any]:
    return {
        "apiVersion": f"config.{GROUP}/v1beta2",
        "kind": "Configuration",
        "namespace": NAMESPACE,
        "health": {"healthProbeBindAddress": f"127.0.0.1:{health_port}"},
        "metrics": {"bindAddress": "0"},
        "webhook": {"host": "127.0.0.1", "port": webhook_port, "certDir": str(state / "certs")},
        "leaderElection": {"leaderElect": False},
        "internalCertManagement": {"enable": False},
        "manageJobsWithoutQueueName": False,
        "featureGates": {"VisibilityOnDemand": False},
        "integrations": {"frameworks": ["batch/job"]},
        # The defaults (qps 20) slow a burst of Workload updates in the tests.
        "clientConnection": {"qps": 100, "burst": 200},
    }


class Kueue:
    """Kueue on the test cluster whose state dir (scripts/k8s-test-cluster.sh) is `cluster_dir`;
    its own files (certificates, configuration, log, PID) go to `<cluster_dir>/kueue`."""

    def __init__(self, cluster_dir: Path) -> None:
        self.kubeconfig = cluster_dir / "kubeconfig"
        self.cluster_pids = cluster_dir / "pids"
        self.state = cluster_dir / "kueue"
        self.log_path = self.state / "kueue.log"
        self.pid_file = self.state / "pid"
        self.proc: subprocess.Popen[bytes] | None = None

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args], capture_output=True, text=True, input=input
        )
        if check and out.returncode:
            raise RuntimeError(f"kubectl {' '.join(args)}: {out.stderr.strip()}")
        return out

    def start(self, timeout: float = 60) -> None:
        """Install the CRDs, start the binary, register its webhooks and return once the API
        server reaches them (a server-side dry run goes through them)."""
        if self.pid_file.exists() and _is_kueue(int(self.pid_file.read_text())):
            raise RuntimeError(f"Kueue already runs (PID {self.pid_file.read_text()}); stop it first")
        deadline = time.monotonic() + timeout
        source = module_dir()
        self._install(source, deadline)
        webhook_port, health_port = free_port(), free_port()
        self._launch(webhook_port, health_port)
        # /readyz turns ok once the webhook server listens.
        self._until(deadline, "/readyz", lambda: answers(f"http://127.0.0.1:{health_port}/readyz"))
        ca = base64.b64encode((self.state / "ca.crt").read_bytes()).decode()
        manifests = (source / "config/components/webhook/manifests.yaml").read_text()
        for body in webhook_configurations(manifests, f"https://127.0.0.1:{webhook_port}", ca):
            self.kubectl("apply", "-f", "-", input=json.dumps(body))
        self._until(deadline, "its webhooks", self._webhooks_answer)

    def _install(self, source: Path, deadline: float) -> None:
        bases = source / "config/components/crd/bases"
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(bases))
        crds = [f"crd/{f.name.removeprefix(f'{GROUP}_').removesuffix('.yaml')}.{GROUP}" for f in bases.glob("*.yaml")]
        self._until(deadline, "its CRDs Established", lambda: self._established(crds))
        self.kubectl("create", "namespace", NAMESPACE, check=False)  # AlreadyExists on a restart

    def _launch(self, webhook_port: int, health_port: int) -> None:
        """Start the binary, its PID also in the cluster's `pids`, so that stopping the cluster
        (scripts/k8s-test-cluster.sh stop, last line first) ends a Kueue left running."""
        self.state.mkdir(parents=True, exist_ok=True)
        make_certs(self.state)
        ensure_metrics_certs(self.state / "certs")
        config = self.state / "config.yaml"
        config.write_text(yaml.safe_dump(configuration(self.state, webhook_port, health_port)))
        binary = subprocess.run(
            [str(ROOT / "scripts/k8s/ensure-addons.sh"), "kueue"], check=True, capture_output=True, text=True
        ).stdout.strip()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [binary, "--config", str(config)],
                env={**os.environ, "KUBECONFIG": str(self.kubeconfig)},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pid_file.write_text(str(self.proc.pid))
        with open(self.cluster_pids, "a") as pids:
            pids.write(f"{self.proc.pid} kueue\n")

    def _established(self, crds: list[str]) -> bool:
        # Not `kubectl wait`: it fails on a CRD whose status has no conditions yet.
        query = '{range .items[*]}{.status.conditions[?(@.type=="Established")].status}{" "}{end}'
        out = self.kubectl("get", *crds, "-o", f"jsonpath={query}", check=False).stdout.split()
        return out == ["True"] * len(crds)

    def _webhooks_answer(self) -> bool:
        probe = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "ResourceFlavor", "metadata": {"name": "kueue-probe"}}
        return (
            self.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(probe), check=False).returncode == 0
        )

    def _until(self, deadline: float, what: str, ready: Callable[[], bool]) -> None:
        while not ready():
            if self.proc is not None and self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"Kueue exited ({self.proc.returncode}):\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"Kueue: no answer from {what}:\n{self.log_tail()}")
            time.sleep(0.3)

    def stop(self) -> None:
        """Delete the webhook configurations (Jobs are admitted without Kueue again), then end
        the process (SIGTERM, SIGKILL after 10 s). Its CRDs and objects stay."""
        self.kubectl("delete", *WEBHOOK_CONFIGS, "--ignore-not-found", check=False)
        if not self.pid_file.exists():
            return
        pid = int(self.pid_file.read_text())
        if _is_kueue(pid):
            os.kill(pid, signal.SIGTERM)
            if not self._gone(pid, 10):
                os.kill(pid, signal.SIGKILL)
                self._gone(pid, 5)
        if self.cluster_pids.exists():
            lines = self.cluster_pids.read_text().splitlines(keepends=True)
            self.cluster_pids.write_text("".join(line for line in lines if line.split() != [str(pid), "kueue"]))
        self.pid_file.unlink()

    def _gone(self, pid: int, seconds: float) -> bool:
        if self.proc is not None and self.proc.pid == pid:  # our child: reap it
            try:
                self.proc.wait(timeout=seconds)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + seconds
        while _is_kueue(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _is_kueue(pid: int) -> bool:
    """`pid` is alive and runs the kueue binary (not a PID reused since)."""
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return False
    return Path(argv0.decode()).name == "kueue"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.kueue", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("cluster_dir", type=Path, help="the state dir of scripts/k8s-test-cluster.sh")
    args = parser.parse_args()
    kueue = Kueue(args.cluster_dir.resolve())
    if args.action == "start":
        kueue.start()
        print(f"Kueue ready (PID {kueue.proc.pid if kueue.proc else '?'}); log: {kueue.log_path}")
    else:
        kueue.stop()


if __name__ == "__main__":
    main()
