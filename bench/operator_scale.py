"""`make bench-operator`: the operator at scale, N VideoAnalysis resources applied at once.

One fresh control plane (scripts/k8s-test-cluster.sh, auditing the operator's own user), 100
KWOK GPU nodes of 8 GPUs, a fresh PostgreSQL database (schema as the tests make it). Each
round (N = 100, then 1000) gets a fresh namespace and a fresh operator process (its code
unchanged, its production intervals), N API-made task rows, and N resources created from 16
threads. The Pods' containers are KWOK's; the task rows are written by the row-writer
stand-in (bench/operator_standin.py, the job's own lease and fenced writer). Measured from the
bench's own watches (arrival times): apply -> Job created, apply -> the last Succeeded; from
the operator: reconciles per second (/metrics), API requests per resource by verb (the audit
log, the operator's user only), peak RSS (VmHWM) and CPU time; the machine's load. Verified:
every resource Succeeded, every row SUCCEEDED with its lease taken once and its result
committed once. One table, the rounds side by side (`--json PATH` also writes it).

One module of some 300 lines: the rounds, their measurements and their checks read in order;
the cluster and the stand-in live in their own modules (operator_cluster, operator_standin).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from kubernetes import client
from tortoise import Tortoise

from bench import operator_cluster as oc
from bench.common import row
from bench.operator_round import Round, api_tasks, verify
from bench.operator_standin import FACES, FRAMES, expected_detections
from inference_job.config import JobSettings
from tests.support.cluster import create_namespace
from tests.support.operator_process import OperatorProcess
from videoanalysis.db import tortoise_config
from videoanalysis.k8s import names

STAND_IN = (
    f"Pods are played by KWOK; each task row is written by the row-writer stand-in (bench/operator_standin.py: "
    f"the job's take_lease, ResultWriter and fenced SUCCEEDED, {FRAMES} frames of {FACES} detections)"
)
GOALS = "goals: p95 apply -> Job < 2 s, operator RSS < 300 MB, requests per resource flat, all Succeeded"
PLANE = ("kube-apiserver", "etcd", "controllers", "kwok")
VERBS = ("create", "get", "list", "watch", "patch", "update", "delete")


@asynccontextmanager
async def database(pg_server: str) -> AsyncIterator[str]:
    """A fresh database with the schema generated as the tests do; dropped after."""
    name = f"va_bench_op_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{pg_server}/test")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{pg_server}/{name}"
    try:
        # The bench's own pool: stand-ins and verdicts in flight, not the operator's.
        # Global fallback: the stand-ins start from the watch threads' callbacks, outside this context.
        await Tortoise.init(config=tortoise_config(f"{url}?maxsize=12"), _enable_global_fallback=True)
        await Tortoise.generate_schemas(safe=True)
        yield url
    finally:
        await Tortoise.close_connections()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def run_round(cluster: oc.Cluster, url: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """One round of `n` resources; the figures of its column."""
    namespace = await asyncio.to_thread(create_namespace, cluster.api, "va-bench-", url)
    rows = await api_tasks(namespace, n)
    log = cluster.dir / f"operator-{n}.log"
    operator = await asyncio.to_thread(oc.start_operator, cluster, url, namespace, log, args.failover)
    print(f"N={n}: namespace {namespace}, operator pid {operator.proc and operator.proc.pid}, log {log}", flush=True)
    standby = None
    if args.failover:  # the first holds the Lease before the second starts: it stands by
        await wait_until(lambda: oc.lease_holder(cluster.api, namespace), 60, "the first replica's Lease")
        standby = await asyncio.to_thread(
            oc.start_operator, cluster, url, namespace, cluster.dir / f"operator-{n}-standby.log", True
        )
    round_ = Round(cluster.api, namespace, n, JobSettings(database_url=url), args.hold)
    core, batch = client.CoreV1Api(cluster.api), client.BatchV1Api(cluster.api)
    custom = client.CustomObjectsApi(cluster.api)
    va_args = (names.GROUP, names.VERSION, namespace, names.PLURAL)
    watches = [
        oc.RawWatch(core.list_namespaced_pod, (namespace,), _rv(core.list_namespaced_pod(namespace)), round_.on_pod),
        oc.RawWatch(batch.list_namespaced_job, (namespace,), _rv(batch.list_namespaced_job(namespace)), round_.on_job),
        oc.RawWatch(custom.list_namespaced_custom_object, va_args, "0", round_.on_va),
    ]
    for watch in watches:
        watch.start()
    try:
        seen = await measure(cluster, operator, round_, rows, args, standby)
    finally:
        operator.stop()
        if standby:
            standby.stop()
        for watch in watches:
            watch.stopped.set()
        round_.close()
    await asyncio.sleep(1)  # the API server writes the closed watches' audit events
    seen["requests"] = oc.audit_counts(cluster.audit_log, seen["offset"])
    checks = await verify(round_, rows, FRAMES, expected_detections())
    seen["jobs listed"] = len(batch.list_namespaced_job(namespace).items)
    await asyncio.to_thread(oc.delete_namespace, cluster.api, namespace)
    return {**figures(round_, seen), **checks, "errors": round_.errors[:10] + list(round_.failed.values())[:5]}


async def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := await asyncio.to_thread(check)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {timeout:g} s")
        await asyncio.sleep(0.05)
    return value


async def fail_over(cluster: oc.Cluster, leader: OperatorProcess, round_: Round, seen: dict[str, Any]) -> None:
    """SIGKILL the leader once half the resources Succeeded; how long until the standby holds
    the Lease, and until the next resource Succeeded (only the leader moves resources)."""
    await wait_until(lambda: len(round_.succeeded) >= round_.n // 2 or round_.done.is_set(), 600, "half Succeeded")
    holder = oc.lease_holder(cluster.api, round_.namespace)
    assert leader.proc is not None
    before, killed = len(round_.succeeded), time.monotonic()
    leader.proc.kill()
    seen["killed at Succeeded"] = before
    await wait_until(lambda: oc.lease_holder(cluster.api, round_.namespace) not in (None, holder), 120, "takeover")
    seen["takeover s"] = time.monotonic() - killed
    await wait_until(lambda: len(round_.succeeded) > before or round_.done.is_set(), 600, "a Succeeded")
    seen["kill -> next Succeeded s"] = time.monotonic() - killed


async def measure(
    cluster: oc.Cluster,
    operator: OperatorProcess,
    round_: Round,
    rows: list[Any],
    args: argparse.Namespace,
    standby: OperatorProcess | None = None,
) -> dict[str, Any]:
    """Apply the round's resources and wait until each ended; what the operator and the
    machine said at the end. With a `standby`, the leader (`operator`) is killed half-way
    and the figures at the end are the standby's, which finished the round."""
    seen: dict[str, Any] = {}
    pid = operator.proc.pid if operator.proc else 0
    await asyncio.sleep(2)  # the operator's initial lists and watches are not the resources' cost
    offset = cluster.audit_log.stat().st_size if cluster.audit_log.exists() else 0
    before, cpu0, plane0 = oc.proc_status(pid), resource.getrusage(resource.RUSAGE_SELF), oc.cluster_cpu(cluster.dir)
    profiler = oc.start_profiler(pid, cluster.dir / f"operator-{round_.n}.py-spy.txt") if args.profile else None
    failover = asyncio.create_task(fail_over(cluster, operator, round_, seen)) if standby else None
    started = await asyncio.to_thread(round_.apply, rows)
    try:
        await asyncio.wait_for(round_.done.wait(), timeout=args.timeout)
        if failover and standby is not None:
            await failover
            operator, pid = standby, standby.proc.pid if standby.proc else 0
    except TimeoutError:
        round_.errors.append(f"timed out after {args.timeout:g} s: {len(round_.succeeded)} of {round_.n} Succeeded")
    finished = time.monotonic()
    await asyncio.gather(*list(round_.tasks), return_exceptions=True)
    if profiler:
        oc.stop_profiler(profiler)
    metrics, after = operator.scrape(), oc.proc_status(pid)
    cpu1, plane1 = resource.getrusage(resource.RUSAGE_SELF), oc.cluster_cpu(cluster.dir)
    return {
        **seen,
        "offset": offset,
        "started": started,
        "elapsed": finished - started,
        "metrics": metrics,
        "rss kB": after["VmHWM"],
        "rss at start kB": before["VmRSS"],
        "operator cpu s": (after["cpu_ticks"] - before["cpu_ticks"]) / os.sysconf("SC_CLK_TCK"),
        "bench cpu s": cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime,
        "plane cpu s": {name: used - plane0.get(name, 0.0) for name, used in plane1.items()},
        "load": os.getloadavg(),
    }


def figures(round_: Round, seen: dict[str, Any]) -> dict[str, Any]:
    """The round's column (`seen`: `measure`'s readings and the audited requests)."""
    n, started, metrics, requests = round_.n, seen["started"], seen["metrics"], seen["requests"]
    latencies = [
        (round_.jobs[names.job_name(name)] - at) * 1000
        for name, at in round_.applied.items()
        if names.job_name(name) in round_.jobs
    ]
    nan = float("nan")
    reconciles = oc.metric_total(metrics, "va_operator_reconciles_total")
    by_verb: Counter[str] = Counter()
    for key, count in requests.items():
        by_verb[key.split()[0]] += count
    return {
        "n": n,
        "applied in s": max(round_.applied.values(), default=started) - started,
        "apply -> Job p50 ms": statistics.median(latencies) if latencies else nan,
        "apply -> Job p95 ms": percentile(latencies, 0.95) if latencies else nan,
        "apply -> Job max ms": max(latencies, default=nan),
        "apply -> last Succeeded s": max(round_.succeeded.values(), default=nan) - started,
        "reconciles": reconciles,
        "reconciles/s": reconciles / seen["elapsed"],
        "handler retries+errors": reconciles
        - oc.metric_total(metrics, "va_operator_reconciles_total", outcome="success"),
        "requests/resource": sum(requests.values()) / n,
        **{f"  {verb}/resource": by_verb[verb] / n for verb in VERBS},
        "requests by verb and resource": dict(requests.most_common()),
        "operator RSS before MB": seen["rss at start kB"] / 1024,
        "operator peak RSS MB": seen["rss kB"] / 1024,
        "operator CPU s": seen["operator cpu s"],
        "bench CPU s": seen["bench cpu s"],
        **{f"{name} CPU s": seen["plane cpu s"][name] for name in PLANE},
        "load avg 1/5 min": "{:.1f}/{:.1f}".format(*seen["load"][:2]),
        "resources Succeeded": len(round_.succeeded),
        "resources Failed": len(round_.failed),
        "Jobs created (metric/listed)": "{:.0f}/{}".format(
            oc.metric_total(metrics, "va_operator_jobs_created_total"), seen["jobs listed"]
        ),
        **{k: seen[k] for k in ("killed at Succeeded", "takeover s", "kill -> next Succeeded s") if k in seen},
    }


def _rv(listing: Any) -> str:
    return str(listing.metadata.resource_version)


def passed(result: dict[str, Any]) -> bool:
    n = result["n"]
    whole = ["resources Succeeded", "rows SUCCEEDED", "leases taken once", "stand-in results committed once"]
    whole.append("counters exact")
    return all(result[k] == n for k in whole) and result["frame rows"] == n * FRAMES and not result["errors"]


def table(results: list[dict[str, Any]]) -> str:
    widths = (30, *(14,) * len(results))
    lines = [row("", *(f"N={r['n']}" for r in results), widths=widths)]
    for key in results[0]:
        if key in ("n", "requests by verb and resource", "errors"):
            continue
        cells = [_cell(r[key]) for r in results]
        lines.append(row(key, *cells, widths=widths))
    lines.append(row("all checks passed", *("yes" if passed(r) else "NO" for r in results), widths=widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


async def run_all(cluster: oc.Cluster, args: argparse.Namespace) -> list[dict[str, Any]]:
    async with database(args.pg) as url:
        results = []
        for n in args.sizes:
            results.append(await run_round(cluster, url, n, args))
            print(table(results[-1:]), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100, 1000])
    parser.add_argument("--nodes", type=int, default=100, help="KWOK GPU nodes")
    parser.add_argument("--gpus-per-node", type=int, default=8)
    parser.add_argument(
        "--hold", type=float, default=0, help="seconds each Pod runs before its result is written (open resources)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds a round may take")
    parser.add_argument("--pg", default=os.environ.get("VA_TEST_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--profile", action="store_true", help="py-spy record the operator (collapsed stacks)")
    parser.add_argument(
        "--failover",
        action="store_true",
        help="two replicas electing a leader (the chart's timings); SIGKILL the leader half-way",
    )
    parser.add_argument("--keep", type=Path, help="keep the cluster's state (logs, audit log) in this folder")
    args = parser.parse_args(argv)
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep}: not empty (a cluster's etcd data would be reused)")
    signal.signal(signal.SIGTERM, _unwind)  # stop the operator and the cluster on the way out
    with tempfile.TemporaryDirectory(prefix="va-bench-operator-") as tmp:
        state = args.keep or Path(tmp)
        with oc.cluster(state) as cluster:
            oc.add_gpu_nodes(cluster.api, args.nodes, args.gpus_per_node)
            print(f"{args.nodes} KWOK nodes of {args.gpus_per_node} GPUs Ready; {os.cpu_count()} CPUs", flush=True)
            results = asyncio.run(run_all(cluster, args))
    print(f"\nThe operator at scale ({GOALS}):")
    print(STAND_IN)
    print(table(results))
    for r in results:
        print(f"N={r['n']} requests by verb and resource: {json.dumps(r['requests by verb and resource'])}")
        for error in r["errors"]:
            print(f"N={r['n']} error: {error}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if all(passed(r) for r in results) else 1


def _unwind(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
