"""The operator's Jobs behind a real Kueue (tests/support/kueue.py): a GPU quota admits as many
Jobs as it holds and keeps the rest suspended, the resources of those show Pending, Queued,
and the next one is admitted when one ends; deleting a queued resource removes its Workload,
and a namespace holding Kueue's objects is deleted in full while Kueue runs.

A second operator watches the `va-q-` namespaces with VA_KUEUE_QUEUE set (the session's
watches `va-t-`). Each test gets a namespace with a LocalQueue on a ClusterQueue of its own
(2 GPUs), so a namespace that is still being deleted holds no quota another test waits for;
Kueue and that operator stay up until every such namespace is gone, since Workloads and
resources carry finalizers only they remove.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.cluster import create_namespace
from tests.support.kueue import GROUP, VERSION, Kueue
from tests.support.operator_process import OperatorProcess, running_operator
from tests.support.pods import KwokPods, PodRunner
from tests.support.resources import create_va, get_va, jobs, phase_is
from tests.support.tasks import api_task
from tests.support.videos import pan_video, reencoded
from tests.support.waits import wait_for
from va_operator.builders import build_job
from va_operator.config import OperatorSettings
from videoanalysis.k8s import names
from videoanalysis.storage import video_uri
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

pytestmark = pytest.mark.kubernetes

PREFIX = "va-q-"
LOCAL_QUEUE = "va-gpu"
FLAVOR = "va-test-gpu"
GPU_QUOTA = 2


def cluster_queue(name: str, namespace: str) -> dict[str, Any]:
    """GPU_QUOTA GPUs for `namespace` alone; cpu and memory are covered too (a Job's requests
    of either would make it inadmissible otherwise) with room to spare."""
    quotas = {"cpu": "64", "memory": "256Gi", "nvidia.com/gpu": str(GPU_QUOTA)}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ClusterQueue",
        "metadata": {"name": name},
        "spec": {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
            "resourceGroups": [
                {
                    "coveredResources": list(quotas),
                    "flavors": [
                        {"name": FLAVOR, "resources": [{"name": k, "nominalQuota": v} for k, v in quotas.items()]}
                    ],
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def kueue(k8s_cluster: Path, kube_api: client.ApiClient) -> Iterator[Kueue]:
    """Kueue running on the session cluster with one ResourceFlavor; stopped (its webhooks
    deleted) once the module's namespaces and queues are gone."""
    proc = Kueue(k8s_cluster.parent)
    proc.start()
    flavor = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "ResourceFlavor", "metadata": {"name": FLAVOR}}
    try:
        client.CustomObjectsApi(kube_api).create_cluster_custom_object(GROUP, VERSION, "resourceflavors", flavor)
        yield proc
        delete_kueue_object(kube_api, "resourceflavors", FLAVOR)
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def queue_operator(db: str, kueue: Kueue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorProcess]:
    """An operator of its own on the `va-q-` namespaces, labelling its Jobs for LOCAL_QUEUE."""
    log = tmp_path_factory.mktemp("kueue-operator") / "operator.log"
    with running_operator(db, f"{PREFIX}*", log, VA_KUEUE_QUEUE=LOCAL_QUEUE) as proc:
        yield proc


@pytest.fixture(scope="module")
def deleted_namespaces(kube_api: client.ApiClient, queue_operator: OperatorProcess) -> Iterator[list[str]]:
    """The module's namespaces, deleted by their tests: waited for at the end, while Kueue and
    the operator still run, and then their ClusterQueues (whose finalizer waits on Workloads)."""
    deleted: list[str] = []
    yield deleted
    core = client.CoreV1Api(kube_api)
    for ns in deleted:
        poll(lambda ns=ns: not exists(lambda: core.read_namespace(ns)), 90, f"namespace {ns} still there")
        delete_kueue_object(kube_api, "clusterqueues", ns)


@pytest.fixture
def queue_ns(kube_api: client.ApiClient, db: str, deleted_namespaces: list[str]) -> Iterator[str]:
    """A fresh `va-q-` namespace with the LocalQueue LOCAL_QUEUE on a ClusterQueue (named after
    the namespace) that Kueue reports Active."""
    ns = create_namespace(kube_api, PREFIX, db)
    objects = client.CustomObjectsApi(kube_api)
    try:
        objects.create_cluster_custom_object(GROUP, VERSION, "clusterqueues", cluster_queue(ns, ns))
        local = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "LocalQueue", "metadata": {"name": LOCAL_QUEUE}}
        objects.create_namespaced_custom_object(
            GROUP, VERSION, ns, "localqueues", {**local, "spec": {"clusterQueue": ns}}
        )
        cq = (GROUP, VERSION, "clusterqueues", ns)
        poll(lambda: is_true(objects.get_cluster_custom_object(*cq), "Active"), 20, f"ClusterQueue {ns} not Active")
        yield ns
    finally:
        try:
            delete_namespace(kube_api, ns)
        finally:
            deleted_namespaces.append(ns)


def delete_namespace(api: client.ApiClient, ns: str) -> None:
    """Delete the namespace's resources and wait until the operator let them go, then the
    namespace. Resources first: Kopf stops serving a namespace as soon as the namespace
    controller's first status shows no blocker, often before it deletes the resources, and a
    resource still open then keeps the operator's finalizer (and the namespace) for ever."""
    objects = client.CustomObjectsApi(api)
    va = (names.GROUP, names.VERSION, ns, names.PLURAL)
    if exists(lambda: objects.delete_collection_namespaced_custom_object(*va)):
        try:
            poll(lambda: not objects.list_namespaced_custom_object(*va)["items"], 30, f"resources in {ns} still there")
        except TimeoutError as exc:
            left = [
                (r["metadata"]["name"], (r.get("status") or {}).get("phase"), r["metadata"].get("finalizers"))
                for r in objects.list_namespaced_custom_object(*va)["items"]
            ]
            raise TimeoutError(f"{exc}: {left}") from exc
        finally:
            exists(lambda: client.CoreV1Api(api).delete_namespace(ns))


def delete_kueue_object(api: client.ApiClient, plural: str, name: str) -> None:
    """Delete one of Kueue's cluster-scoped objects and wait until Kueue removed its finalizer
    (it does once nothing uses the object), so none is left Terminating after Kueue stops."""
    objects = client.CustomObjectsApi(api)
    exists(lambda: objects.delete_cluster_custom_object(GROUP, VERSION, plural, name))
    poll(
        lambda: not exists(lambda: objects.get_cluster_custom_object(GROUP, VERSION, plural, name)),
        20,
        f"{plural}/{name} still there",
    )


def exists(call: Callable[[], Any]) -> bool:
    """Make the API call; False when it answers 404 (the object is not there)."""
    try:
        call()
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


def poll(check: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} after {timeout:g} s")
        time.sleep(0.2)


def is_true(obj: dict[str, Any], kind: str) -> bool:
    return any(c["type"] == kind and c["status"] == "True" for c in (obj.get("status") or {}).get("conditions") or [])


def workloads(api: client.ApiClient, ns: str) -> list[dict[str, Any]]:
    return client.CustomObjectsApi(api).list_namespaced_custom_object(GROUP, VERSION, ns, "workloads")["items"]


def job_of(workload: dict[str, Any]) -> str:
    """The Job that owns the Workload (Kueue makes one per Job, owned by it)."""
    return next(o["name"] for o in workload["metadata"].get("ownerReferences", []) if o["kind"] == "Job")


def admission(api: client.ApiClient, ns: str, admitted: int, queued: int) -> Any:
    """A predicate: the names of the Jobs whose Workloads Kueue admitted (unfinished) and of
    those it tried and left waiting for quota, once there are `admitted` and `queued` of them
    and the Jobs agree (an admitted Job unsuspended, a queued one still suspended)."""

    def check() -> tuple[list[str], list[str]] | None:
        split: tuple[list[str], list[str]] = ([], [])
        for wl in workloads(api, ns):
            job = job_of(wl)
            conditions = {c["type"]: c["status"] for c in (wl.get("status") or {}).get("conditions") or []}
            if conditions.get("Admitted") == "True" and conditions.get("Finished") != "True":
                split[0].append(job)
            elif conditions.get("QuotaReserved") == "False":
                split[1].append(job)
        if (len(split[0]), len(split[1])) != (admitted, queued):
            return None
        suspended = {j.metadata.name: bool(j.spec.suspend) for j in jobs(api, ns)}
        if any(suspended.get(job, True) for job in split[0]) or not all(suspended.get(job) for job in split[1]):
            return None
        return sorted(split[0]), sorted(split[1])

    return check


def resource_of(api: client.ApiClient, ns: str, job: str) -> tuple[str, str]:
    """The resource name and task id the Job was made for (its labels)."""
    labels = client.BatchV1Api(api).read_namespaced_job(job, ns).metadata.labels
    assert labels[names.LABEL_KUEUE_QUEUE] == LOCAL_QUEUE
    return labels[names.LABEL_RESOURCE], labels[names.LABEL_TASK]


async def submit(api: client.ApiClient, ns: str, make_task: Any, count: int) -> None:
    for _ in range(count):
        create_va(api, await make_task(namespace=ns), ns, gpus=1)


async def run_on_a_gpu_node(api: client.ApiClient, kwok: KwokPods, ns: str, job: str) -> Any:
    """The admitted Job's Pod, placed on a GPU node by the scheduler and started; its resource
    Running."""
    [pod] = kwok.wait_for_pods(ns, job)
    assert pod.spec.node_name.startswith("kwok-gpu-"), pod.spec.node_name
    kwok.run(pod)
    await wait_for(phase_is(api, ns, resource_of(api, ns, job)[0], "Running"), what=f"{job} Running")
    return pod


async def assert_queued(api: client.ApiClient, ns: str, job: str) -> None:
    """A queued Job has no Pod; its resource waits Pending, Queued, and so does its task row.
    Reason `Queued` and the row's wait_reason/wait_message come with the operator's waiting
    reasons (va_operator.outcomes.job_waiting, row_io.write_wait)."""
    assert not client.CoreV1Api(api).list_namespaced_pod(ns, label_selector=f"job-name={job}").items
    name, task_id = resource_of(api, ns, job)
    status = await wait_for(
        lambda: (s := get_va(api, ns, name).get("status") or {}).get("reason") == "Queued" and s, what=f"{name} Queued"
    )
    assert status["phase"] == "Pending" and LOCAL_QUEUE in status["message"]
    task = await wait_for(lambda: Task.filter(id=task_id, wait_reason="Queued").first(), what="the row's wait_reason")
    assert task.status == TaskStatus.PENDING and LOCAL_QUEUE in (task.wait_message or "")


async def test_the_quota_admits_two_jobs_and_the_next_when_one_ends(
    queue_operator: OperatorProcess, queue_ns: str, kube_api: client.ApiClient, kwok: KwokPods, make_task: Any
) -> None:
    await submit(kube_api, queue_ns, make_task, 5)
    running, queued = await wait_for(admission(kube_api, queue_ns, 2, 3), what="2 Jobs admitted, 3 queued")
    pods = [await run_on_a_gpu_node(kube_api, kwok, queue_ns, job) for job in running]
    for job in queued:
        await assert_queued(kube_api, queue_ns, job)

    name, task_id = resource_of(kube_api, queue_ns, running[0])
    await transition(task_id, TaskStatus.SUCCEEDED)  # what the job records before it exits 0
    kwok.finish(pods[0], exit_code=0)
    await wait_for(phase_is(kube_api, queue_ns, name, "Succeeded"), what=f"{name} Succeeded")
    now_running, still_queued = await wait_for(
        admission(kube_api, queue_ns, 2, 2), what="the next Job admitted once the first ended"
    )
    [admitted] = set(now_running) - set(running)
    assert admitted in queued and set(still_queued) == set(queued) - {admitted}
    await run_on_a_gpu_node(kube_api, kwok, queue_ns, admitted)
    task = await Task.get(id=resource_of(kube_api, queue_ns, admitted)[1])
    assert task.wait_reason is None  # cleared once it left the queue


async def test_a_namespace_holding_admitted_and_queued_workloads_is_deleted_while_kueue_runs(
    kueue: Kueue, queue_ns: str, kube_api: client.ApiClient, kwok: KwokPods
) -> None:
    """Nothing of Kueue's holds a namespace: its LocalQueue, its Workloads (with Kueue's
    finalizer) and the admitted and suspended Jobs go. The Jobs are the operator's own
    (`build_job`) with no resource over them, which the operator leaves alone: an open
    resource would hold the namespace by the operator's finalizer (see `delete_namespace`)."""
    settings = OperatorSettings(kueue_queue=LOCAL_QUEUE)
    for _ in range(3):
        body = {
            "metadata": {"name": f"va-{uuid.uuid4()}", "namespace": queue_ns},
            "status": {"taskId": str(uuid.uuid4())},
        }
        client.BatchV1Api(kube_api).create_namespaced_job(queue_ns, build_job(body, settings))
    running, _ = await wait_for(admission(kube_api, queue_ns, 2, 1), what="2 Jobs admitted, 1 queued")
    [pod] = kwok.wait_for_pods(queue_ns, running[0])
    assert pod.spec.node_name.startswith("kwok-gpu-") and kwok.run(pod)
    assert all("kueue.x-k8s.io/resource-in-use" in w["metadata"]["finalizers"] for w in workloads(kube_api, queue_ns))
    core = client.CoreV1Api(kube_api)
    core.delete_namespace(queue_ns)
    try:
        await wait_for(
            lambda: not exists(lambda: core.read_namespace(queue_ns)), timeout=60, interval=1, what="the namespace gone"
        )
    except TimeoutError as exc:
        conditions = core.read_namespace(queue_ns).status.conditions or []
        raise AssertionError(f"{exc}: {[(c.type, c.message) for c in conditions if c.status == 'True']}") from exc


async def test_deleting_a_queued_resource_removes_its_workload(
    queue_operator: OperatorProcess, queue_ns: str, kube_api: client.ApiClient, make_task: Any
) -> None:
    await submit(kube_api, queue_ns, make_task, 3)
    running, [queued] = await wait_for(admission(kube_api, queue_ns, 2, 1), what="2 Jobs admitted, 1 queued")
    name, task_id = resource_of(kube_api, queue_ns, queued)
    [workload] = [w["metadata"]["name"] for w in workloads(kube_api, queue_ns) if job_of(w) == queued]
    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        names.GROUP, names.VERSION, queue_ns, names.PLURAL, name
    )
    # The resource owns the Job, the Job owns the Workload: the garbage collector takes both,
    # once it follows Workloads (it rediscovers CRDs every 30 s; Kueue's came with the module).
    await wait_for(
        lambda: workload not in {w["metadata"]["name"] for w in workloads(kube_api, queue_ns)},
        timeout=60,
        what=f"Workload {workload} gone",
    )
    assert queued not in {j.metadata.name for j in jobs(kube_api, queue_ns)}
    task = await Task.get(id=task_id)
    assert task.status == TaskStatus.CANCELLED
    assert await wait_for(admission(kube_api, queue_ns, 2, 0), what="the others still admitted") == (running, [])


@pytest.fixture(scope="module")
def four_shard_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The astronaut pan, 160 frames at 10 fps with an IDR picture every 10: four shards of 40."""
    d = tmp_path_factory.mktemp("kueue-shards")
    (d / "videos").mkdir()
    pan = pan_video(d / "pan.avi", frames=160, fps=10.0)
    return reencoded([pan.path], d / "videos" / "pan.mp4", fps=10, gop=10)


def placed_unstarted(core: client.CoreV1Api, ns: str, job: str) -> list[Any]:
    """The Job's Pods the scheduler placed and nothing started yet."""
    pods: list[Any] = core.list_namespaced_pod(ns, label_selector=f"job-name={job}").items
    return [p for p in pods if p.status.phase == "Pending" and p.spec.node_name]


async def run_shard_pod(runner: PodRunner, pod: Any, videos: Path, data: Path) -> int:
    """The Pod's own command as its index's shard (JOB_COMPLETION_INDEX comes by fieldRef,
    which the runner does not copy), reported running and then exited."""
    pod = await asyncio.to_thread(runner.start, pod)
    index = pod.metadata.annotations["batch.kubernetes.io/job-completion-index"]
    env = {"JOB_COMPLETION_INDEX": index, "VA_VIDEOS_DIR": str(videos), "VA_DEVICE": "cpu"}
    code, out = await runner.execute(pod, timeout=180, VA_DATA_DIR=str(data / index), **env)
    await asyncio.to_thread(runner.exited, pod, code)
    assert code == 0, out[-2000:]
    return int(index)


async def test_a_sharded_job_is_admitted_in_part_and_runs_its_shards_in_waves(
    queue_operator: OperatorProcess, queue_ns: str, kube_api: client.ApiClient, four_shard_video: Path, tmp_path: Path
) -> None:
    """Four shards of one GPU on a quota of two: Kueue's partial admission (the Job's
    job-min-parallelism annotation) starts the Job at parallelism 2, and the job controller
    runs the four indexes two at a time."""
    started = time.monotonic()
    fields = {"video_uri": video_uri("pan.mp4"), "video_name": "pan.mp4", "model": "opencv-face"}
    task = await api_task(queue_ns, params={"shards": 4}, **fields)
    name = create_va(kube_api, task, queue_ns, gpus=1)
    [job_name] = (await wait_for(admission(kube_api, queue_ns, 1, 0), what="the Job admitted"))[0]
    job: Any = client.BatchV1Api(kube_api).read_namespaced_job(job_name, queue_ns)
    assert (job.spec.completions, job.spec.parallelism) == (4, 2)
    [workload] = workloads(kube_api, queue_ns)
    assert [a["count"] for a in workload["status"]["admission"]["podSetAssignments"]] == [2]

    runner, batch, done, waves = PodRunner(kube_api), client.BatchV1Api(kube_api), set[int](), 0
    core = client.CoreV1Api(kube_api)
    while len(done) < GPU_QUOTA * 2:
        pods = await wait_for(lambda: placed_unstarted(core, queue_ns, job_name), what="the next wave's Pods placed")
        job = batch.read_namespaced_job(job_name, queue_ns)
        active = job.status.active or 0
        assert len(pods) <= GPU_QUOTA and active <= GPU_QUOTA, (len(pods), active)
        indexes = await asyncio.gather(*(run_shard_pod(runner, p, four_shard_video.parent, tmp_path) for p in pods))
        assert not done & set(indexes)
        done |= set(indexes)
        waves += 1
    assert done == {0, 1, 2, 3} and waves >= 2

    va = await wait_for(phase_is(kube_api, queue_ns, name, "Succeeded"), timeout=60, what="Succeeded")
    assert [(s["index"], s["phase"]) for s in va["status"]["shards"]] == [(i, "Succeeded") for i in range(4)]
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED and task.shards == 4 and task.merge_state
    print(f"four shards in {waves} waves under Kueue: {time.monotonic() - started:.1f} s")
