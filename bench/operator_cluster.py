"""The world of `make bench-operator`: a fresh test control plane that audits the operator's
requests, KWOK GPU nodes, a fresh PostgreSQL database, the operator process, raw watches.

The operator authenticates as its own user (`operator`, the second token scripts/k8s/certs.sh
writes), so the audit policy selects its requests by user and logs nothing else: the bench,
the controllers and KWOK share the admin token and cost the API server no audit writes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.watch.watch import iter_resp_lines

from tests.support.cluster import KUBECTL, SCRIPT
from tests.support.nodes import is_ready, node_manifest
from tests.support.operator_process import OperatorProcess
from tests.support.paths import ROOT
from videoanalysis.k8s import names

OPERATOR_USER = "operator"
AUDIT_POLICY = f"""apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: Metadata
  users: [{OPERATOR_USER}]
- level: None
"""


@dataclass
class Cluster:
    dir: Path
    kubeconfig: Path
    operator_kubeconfig: Path
    api: client.ApiClient

    @property
    def audit_log(self) -> Path:
        return self.dir / "audit.log"


def api_client(kubeconfig: Path, pool: int = 32) -> client.ApiClient:
    """A client with a connection per thread of the bench's pools (the default is 5 per CPU)."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    configuration.connection_pool_maxsize = pool
    return client.ApiClient(configuration)


@contextmanager
def cluster(state: Path) -> Iterator[Cluster]:
    """scripts/k8s-test-cluster.sh with the audit policy, the CRD installed; stopped after."""
    state.mkdir(parents=True, exist_ok=True)
    policy = state / "audit-policy.yaml"
    policy.write_text(AUDIT_POLICY)
    env = {**os.environ, "VA_K8S_AUDIT_POLICY": str(policy)}
    try:
        out = subprocess.run([str(SCRIPT), "start", str(state)], check=True, capture_output=True, text=True, env=env)
        kubeconfig = Path(out.stdout.strip().splitlines()[-1])
        token = (state / "token").read_text().strip()
        operator_kc = state / "operator.kubeconfig"
        operator_kc.write_text(kubeconfig.read_text().replace(token, (state / "operator-token").read_text().strip()))
        operator_kc.chmod(0o600)
        kubectl = [str(KUBECTL), "--kubeconfig", str(kubeconfig)]
        subprocess.run(
            [*kubectl, "apply", "-f", str(ROOT / "crds" / "videoanalysis.yaml")], check=True, capture_output=True
        )
        subprocess.run(
            [*kubectl, "wait", "--for=condition=Established", "--timeout=30s", f"crd/{names.CRD_NAME}"],
            check=True,
            capture_output=True,
        )
        yield Cluster(state, kubeconfig, operator_kc, api_client(kubeconfig))
    finally:
        subprocess.run([str(SCRIPT), "stop", str(state)], check=False, capture_output=True)


def add_gpu_nodes(api: client.ApiClient, count: int, gpus: int, timeout: float = 120) -> None:
    """`count` KWOK GPU nodes (tests/support/nodes.py's shape), created at once, then all Ready."""
    core = client.CoreV1Api(api)
    wanted = {f"kwok-gpu-{i:03d}" for i in range(count)}
    with ThreadPoolExecutor(8) as pool:
        # The client serialises a plain manifest as well as its model.
        list(pool.map(lambda name: core.create_node(node_manifest(name, gpus)), sorted(wanted)))  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout
    while wanted - {n.metadata.name for n in core.list_node().items if n.metadata and is_ready(n)}:
        if time.monotonic() > deadline:
            raise TimeoutError(f"KWOK did not make {count} nodes Ready in {timeout:g} s")
        time.sleep(0.5)


#: The Lease the replicas of a failover round elect their leader through (in the round's namespace).
LEASE = "va-bench-operator"


def start_operator(
    cluster: Cluster, database_url: str, namespace: str, log_path: Path, elected: bool = False
) -> OperatorProcess:
    """The real operator (`python -m va_operator.launcher`) with its production defaults (no
    test intervals), as user `operator`, watching `namespace`; `elected`: one of several
    replicas electing their leader through `LEASE` (the chart's timings)."""
    env = {
        "KUBECONFIG": str(cluster.operator_kubeconfig),
        "VA_DATABASE_URL": database_url,
        "VA_WATCH_NAMESPACES": json.dumps([namespace]),
        "VA_PUBLIC_URL": "https://va.example.test/",
    }
    if elected:
        env |= {"VA_LEADER_ELECTION_LEASE": LEASE, "VA_LEADER_ELECTION_NAMESPACE": namespace}
    proc = OperatorProcess(env, log_path)
    proc.start()
    return proc


def lease_holder(api: client.ApiClient, namespace: str) -> str | None:
    """Who holds the failover round's Lease (None: nobody, or no Lease yet)."""
    try:
        lease = client.CoordinationV1Api(api).read_namespaced_lease(LEASE, namespace, _request_timeout=5)
    except client.exceptions.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return (lease.spec and lease.spec.holder_identity) or None


def delete_namespace(api: client.ApiClient, name: str, timeout: float = 180) -> None:
    """Delete a round's namespace and wait until it is gone, so the next round starts on a
    quiet cluster (the garbage collector and KWOK delete its Jobs and Pods meanwhile)."""
    core = client.CoreV1Api(api)
    core.delete_namespace(name)
    deadline = time.monotonic() + timeout
    while core.list_namespace(field_selector=f"metadata.name={name}").items:
        if time.monotonic() > deadline:
            print(f"namespace {name} still terminating after {timeout:g} s", flush=True)
            return
        time.sleep(1)


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS (kB) of a process, and its CPU seconds (user + system) x 100."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0])
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    fields["cpu_ticks"] = int(stat[11]) + int(stat[12])  # utime, stime (fields 14 and 15)
    return fields


def cluster_cpu(state: Path) -> dict[str, float]:
    """CPU seconds used so far by each process of the control plane (scripts/k8s-test-cluster.sh
    lists them in <state>/pids), the controller manager and the scheduler together."""
    used: dict[str, float] = {}
    for line in (state / "pids").read_text().splitlines():
        pid, name = line.split()
        name = "controllers" if name in ("kube-controller-manager", "kube-scheduler") else name
        used[name] = used.get(name, 0.0) + proc_status(int(pid))["cpu_ticks"] / os.sysconf("SC_CLK_TCK")
    return used


def audit_counts(path: Path, offset: int, user: str = OPERATOR_USER) -> Counter[str]:
    """Requests of `user` after byte `offset` of the audit log, by "verb resource"."""
    counts: Counter[str] = Counter()
    with path.open("rb") as log:
        log.seek(offset)
        for line in log:
            event = json.loads(line)
            if event.get("user", {}).get("username") != user or event.get("stage") != "ResponseComplete":
                continue
            ref = event.get("objectRef") or {}
            what = ref.get("resource", event.get("requestURI", "?"))
            counts[
                f"{event['verb']} {what}/{ref['subresource']}" if ref.get("subresource") else f"{event['verb']} {what}"
            ] += 1
    return counts


def metric_total(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels` (Prometheus text format)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


class RawWatch(threading.Thread):
    """Watch one kind from `resource_version` on, JSON decoded but never into client models
    (cheap: the bench shares the two CPUs with what it measures); `on_event(type, object,
    arrival)` gets each event with its arrival on the bench's monotonic clock, in seconds."""

    def __init__(self, list_fn: Callable[..., Any], args: tuple[Any, ...], resource_version: str, on_event: Any):
        super().__init__(daemon=True, name=f"watch-{list_fn.__name__}")
        self.list_fn, self.args, self.rv, self.on_event = list_fn, args, resource_version, on_event
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self._stream()
            except (urllib3.exceptions.HTTPError, OSError):
                if self.stopped.is_set():
                    return
                time.sleep(0.1)  # a dropped stream: reopen where it stopped

    def _stream(self) -> None:
        resp = self.list_fn(
            *self.args,
            watch=True,
            resource_version=self.rv,
            allow_watch_bookmarks=True,
            timeout_seconds=30,
            _preload_content=False,
        )
        try:
            for line in iter_resp_lines(resp):
                arrival = time.monotonic()
                event = json.loads(line)
                obj = event["object"]
                if event["type"] == "ERROR":
                    raise RuntimeError(f"watch {self.name}: {obj.get('message')}")
                self.rv = obj["metadata"]["resourceVersion"]
                if event["type"] != "BOOKMARK":
                    self.on_event(event["type"], obj, arrival)
                if self.stopped.is_set():
                    return
        finally:
            resp.release_conn()


def fresh_name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def start_profiler(pid: int, out: Path) -> subprocess.Popen[bytes] | None:
    """`py-spy record` of the operator into collapsed stacks (flamegraph.pl and speedscope read
    them); None when py-spy is missing (`pip install py-spy`, or PY_SPY=<path>)."""
    spy = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if not spy:
        print("py-spy not found: no profile", flush=True)
        return None
    cmd = [spy, "record", "-p", str(pid), "-o", str(out), "--format", "raw", "--rate", "100", "--nonblocking"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    proc.wait(timeout=60)
