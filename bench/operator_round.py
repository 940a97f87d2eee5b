"""One round of `make bench-operator`: N resources applied at once into a fresh namespace that a
fresh operator process watches, followed to Succeeded by the bench's own watches.

The watches drive the Pods: a Pod that appears gets KWOK's verdict `run` (KWOK starts its
container once the scheduler placed it); a Pod seen Running is handed to the row-writer
stand-in (`bench.operator_standin`), which takes the task's lease, commits its result and
SUCCEEDED, and then gives the Pod the verdict `succeed` (KWOK exits it 0, the job controller
completes the Job, the operator moves the resource). Times are arrivals on the bench's clock.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes import client

from bench.operator_standin import commit_result
from inference_job.config import JobSettings
from tests.support.pods import VERDICT
from videoanalysis.k8s import names
from videoanalysis.k8s.resource import build_videoanalysis
from videoanalysis.tables import Task, TaskOrigin, User

#: Stand-ins committing at once (each holds a pooled connection for a transaction).
STANDIN_CONCURRENCY = 8


async def api_tasks(namespace: str, n: int) -> list[Task]:
    """`n` PENDING rows as the API makes them for resources `va-<id>` in `namespace` (one owner:
    the operator reads rows by id, never by user)."""
    owner = await User.create(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    ids = [uuid.uuid4() for _ in range(n)]
    rows = [
        Task(
            id=task_id,
            owner=owner,
            model="opencv-face",
            video_uri="videos://v.mp4",
            origin=TaskOrigin.API,
            resource_namespace=namespace,
            resource_name=names.resource_name(str(task_id)),
        )
        for task_id in ids
    ]
    await Task.bulk_create(rows, batch_size=500)
    return rows


class Round:
    """What the bench's watches saw, and the Pods' part (verdicts and the stand-in)."""

    def __init__(self, api: client.ApiClient, namespace: str, n: int, settings: JobSettings, hold_s: float = 0) -> None:
        self.core, self.custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
        self.namespace, self.n, self.settings = namespace, n, settings
        self.hold_s = hold_s  # a running Pod's start-up (a model loading) before the stand-in writes
        self.loop = asyncio.get_running_loop()
        self.pool = ThreadPoolExecutor(16, thread_name_prefix="bench-api")
        self.lock = threading.Lock()
        self.applied: dict[str, float] = {}  # resource -> the create call returned
        self.jobs: dict[str, float] = {}  # Job name -> ADDED arrived
        self.succeeded: dict[str, float] = {}
        self.failed: dict[str, str] = {}
        self.labelled: set[str] = set()
        self.handed: set[str] = set()  # Pods given to the stand-in
        self.commits: Counter[str] = Counter()  # task id -> results committed
        self.attempts: dict[str, int] = {}  # task id -> lease attempt of its commit
        self.errors: list[str] = []
        self.done = asyncio.Event()
        self.standins = asyncio.Semaphore(STANDIN_CONCURRENCY)
        self.tasks: set[asyncio.Task[None]] = set()

    # --- applying ----------------------------------------------------------------------------
    def apply(self, rows: list[Task]) -> float:
        """Create every resource from 16 threads; returns when the first create was sent."""

        def create(task: Task) -> None:
            body = build_videoanalysis(task, self.namespace)
            self.custom.create_namespaced_custom_object(names.GROUP, names.VERSION, self.namespace, names.PLURAL, body)
            self.applied[body["metadata"]["name"]] = time.monotonic()

        started = time.monotonic()
        list(self.pool.map(create, rows))
        return started

    # --- the watches' callbacks (watch threads) ---------------------------------------------
    def on_job(self, kind: str, job: dict[str, Any], arrival: float) -> None:
        if kind == "ADDED":
            self.jobs.setdefault(job["metadata"]["name"], arrival)

    def on_va(self, kind: str, va: dict[str, Any], arrival: float) -> None:
        status, name = va.get("status") or {}, va["metadata"]["name"]
        with self.lock:
            if status.get("phase") == "Succeeded" and name not in self.succeeded:
                self.succeeded[name] = arrival
            elif status.get("phase") == "Failed" and name not in self.failed:
                self.failed[name] = f"{status.get('reason')}: {status.get('message')}"
            if len(self.succeeded) + len(self.failed) >= self.n:
                self.loop.call_soon_threadsafe(self.done.set)

    def on_pod(self, kind: str, pod: dict[str, Any], arrival: float) -> None:
        meta, phase = pod["metadata"], (pod.get("status") or {}).get("phase")
        name, labels = meta["name"], meta.get("labels") or {}
        if kind == "DELETED":
            return
        with self.lock:
            label = VERDICT not in labels and name not in self.labelled
            hand = phase == "Running" and name not in self.handed
            self.labelled.add(name)
            if hand:
                self.handed.add(name)
        if label:
            self.pool.submit(self._verdict, name, "run")
        if hand:
            self.loop.call_soon_threadsafe(self._stand_in, labels[names.LABEL_TASK], name)

    # --- the Pods' part ------------------------------------------------------------------------
    def _verdict(self, pod: str, verdict: str) -> None:
        try:
            self.core.patch_namespaced_pod(pod, self.namespace, {"metadata": {"labels": {VERDICT: verdict}}})
        except Exception as exc:  # a failed verdict stalls its resource: the round reports it
            self.error(f"verdict {verdict} for {pod}: {exc}")

    def _stand_in(self, task_id: str, pod: str) -> None:
        task = asyncio.create_task(self._commit(task_id, pod))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _commit(self, task_id: str, pod: str) -> None:
        try:
            await asyncio.sleep(self.hold_s)
            async with self.standins:
                self.attempts[task_id] = await commit_result(uuid.UUID(task_id), pod, self.settings)
            self.commits[task_id] += 1
        except Exception as exc:
            self.error(f"row-writer stand-in for {pod}: {type(exc).__name__}: {exc}")
            return
        await asyncio.get_running_loop().run_in_executor(self.pool, self._verdict, pod, "succeed")

    def error(self, message: str) -> None:
        """Kept for the table; the first few printed at once (a stalled round says why)."""
        self.errors.append(message)
        if len(self.errors) <= 3:
            print(f"  error: {message}", flush=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


async def verify(round_: Round, rows: list[Task], frames: int, detections: dict[str, int]) -> dict[str, int]:
    """What the database says after the round: every row SUCCEEDED, its lease taken once, its
    batch committed once (frame rows and the per-label counter), nothing lost."""
    ids = [t.id for t in rows]
    found = await Task.filter(id__in=ids).values("id", "status", "lease_attempt", "detections", "frames_done")
    from videoanalysis.tables import FrameDetections

    frame_rows = await FrameDetections.filter(task_id__in=ids).count()
    return {
        "rows": len(found),
        "rows SUCCEEDED": sum(r["status"] == "SUCCEEDED" for r in found),
        "leases taken once": sum(r["lease_attempt"] == 1 for r in found),
        "stand-in results committed once": sum(round_.commits[str(r["id"])] == 1 for r in found),
        "counters exact": sum(r["detections"] == detections and r["frames_done"] == frames for r in found),
        "frame rows": frame_rows,
    }
