"""A standby operator replica takes over through the leader-election Lease.

The expiry rule and the leader's own deadline are tested on an in-memory Lease; the rest runs
two real operator processes on a `va-f-` namespace of their own (not the session operator's
`va-t-*`), electing with one Lease and short timings.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.cluster import create_namespace
from tests.support.operator_process import OperatorProcess, watch_env
from tests.support.tasks import api_task
from tests.support.waits import wait_for
from va_operator.config import OperatorSettings
from va_operator.leadership import LOST_EXIT, ExpiryObserver, LeaseElector, LeaseRecord
from videoanalysis.k8s import names
from videoanalysis.k8s.resource import build_videoanalysis

LEASE = "va-operator"


# --- The rules, on an in-memory Lease (no cluster, no wall clock for expiry) -----------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(holder: str = "a", version: str = "1", duration_s: int = 15, renewed: str = "") -> LeaseRecord:
    return LeaseRecord(holder, duration_s, 0, renewed or "2020-01-01T00:00:00.000000Z", "", version)


def test_a_lease_expires_after_its_duration_unchanged_on_the_observers_own_clock() -> None:
    clock = FakeClock()
    observer = ExpiryObserver(clock)
    assert not observer.expired(record(version="1"))  # first seen now: a full duration to wait
    clock.now += 14.9
    assert not observer.expired(record(version="1"))
    clock.now += 0.1
    assert observer.expired(record(version="1"))
    # A renewal seen (a new resourceVersion) restarts the count, whatever its renewTime says.
    assert not observer.expired(record(version="2", renewed="1999-01-01T00:00:00.000000Z"))
    clock.now += 14
    assert not observer.expired(record(version="2", renewed="1999-01-01T00:00:00.000000Z"))
    clock.now += 1
    assert observer.expired(record(version="2", renewed="1999-01-01T00:00:00.000000Z"))
    # Another holder is a change too; a released Lease is free at once.
    assert not observer.expired(record(holder="b", version="3"))
    assert observer.expired(record(holder="", version="4", duration_s=1))


class FakeLeaseApi:
    """read/create/replace of one Lease with the API server's 404, 409 and resourceVersion."""

    def __init__(self) -> None:
        self.spec: dict[str, Any] | None = None
        self.version = 0
        self.failing = False
        self.lock = threading.Lock()

    def _check(self) -> None:
        if self.failing:
            raise ApiException(status=503, reason="Service Unavailable")

    def read_namespaced_lease(self, name: str, namespace: str, **_: Any) -> Any:
        self._check()
        with self.lock:
            if self.spec is None:
                raise ApiException(status=404, reason="Not Found")
            times = {k: _parse(self.spec.get(k)) for k in ("renewTime", "acquireTime")}
            spec = SimpleNamespace(
                holder_identity=self.spec.get("holderIdentity"),
                lease_duration_seconds=self.spec.get("leaseDurationSeconds"),
                lease_transitions=self.spec.get("leaseTransitions"),
                renew_time=times["renewTime"],
                acquire_time=times["acquireTime"],
            )
            return SimpleNamespace(spec=spec, metadata=SimpleNamespace(resource_version=str(self.version)))

    def create_namespaced_lease(self, namespace: str, body: dict[str, Any], **_: Any) -> None:
        self._check()
        with self.lock:
            if self.spec is not None:
                raise ApiException(status=409, reason="AlreadyExists")
            self.spec, self.version = body["spec"], self.version + 1

    def replace_namespaced_lease(self, name: str, namespace: str, body: dict[str, Any], **_: Any) -> None:
        self._check()
        with self.lock:
            if body["metadata"]["resourceVersion"] != str(self.version):
                raise ApiException(status=409, reason="Conflict")
            self.spec, self.version = body["spec"], self.version + 1


def _parse(value: str | None) -> datetime | None:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC) if value else None


def elector(api: FakeLeaseApi, identity: str, clock: Any = time.monotonic, **kw: Any) -> LeaseElector:
    timing = {"duration_s": 15, "renew_s": 5.0, "retry_s": 1.0, **kw}
    return LeaseElector(api, "ns", LEASE, identity=identity, clock=clock, **timing)


def test_one_candidate_wins_and_the_other_takes_over_only_after_the_duration_unrenewed() -> None:
    api, clock = FakeLeaseApi(), FakeClock()
    a, b = elector(api, "a", clock), elector(api, "b", clock)
    assert a.try_acquire_or_renew(1) and not b.try_acquire_or_renew(1) and b.holder == "a"
    clock.now += 10
    assert a.try_acquire_or_renew(1)  # a renewal, seen at b's next poll: b counts from there
    assert not b.try_acquire_or_renew(1)
    clock.now += 14
    assert not b.try_acquire_or_renew(1)
    clock.now += 1
    assert b.try_acquire_or_renew(1) and api.spec is not None
    assert api.spec["holderIdentity"] == "b" and api.spec["leaseTransitions"] == 1
    b.release()
    assert api.spec.get("holderIdentity") is None and api.spec["leaseDurationSeconds"] == 1
    assert a.observer.expired(LeaseRecord.of(api.read_namespaced_lease(LEASE, "ns")))


def _renewing(api: FakeLeaseApi, **timing: Any) -> tuple[LeaseElector, list[str], threading.Event]:
    lost: list[str] = []
    done = threading.Event()
    leader = elector(api, "a", on_lost=lambda reason: (lost.append(reason), done.set()), **timing)
    leader.acquire()
    leader.start_renewing()
    return leader, lost, done


def test_a_leader_that_cannot_renew_gives_up_before_a_standby_may_take_over() -> None:
    api = FakeLeaseApi()
    leader, lost, done = _renewing(api, duration_s=2, renew_s=0.5, retry_s=0.1)
    assert not done.wait(1.2)  # renewals succeed: it keeps the Lease
    assert api.version >= 3 and api.spec is not None and api.spec["holderIdentity"] == leader.identity
    api.failing = True
    failed = time.monotonic()
    assert done.wait(3), "the leader did not give up"
    # At most the duration less the renew interval after its last good renewal.
    assert time.monotonic() - failed <= 2 - 0.5 + 0.5
    assert "no renewal of Lease ns/va-operator succeeded" in lost[0]


def test_a_leader_that_finds_another_holder_gives_up_at_its_next_renewal() -> None:
    api = FakeLeaseApi()
    leader, lost, done = _renewing(api, duration_s=4, renew_s=0.3, retry_s=0.1)
    with api.lock:
        api.spec, api.version = {**(api.spec or {}), "holderIdentity": "intruder"}, api.version + 1
    assert done.wait(2) and lost == ["Lease ns/va-operator is held by intruder now"]
    leader.release()  # not ours any more: left as it is
    assert api.spec is not None and api.spec["holderIdentity"] == "intruder"


def test_the_timings_leave_the_leader_a_margin() -> None:
    with pytest.raises(ValueError, match="VA_LEADER_ELECTION_RENEW_INTERVAL_S"):
        OperatorSettings(leader_election_lease_duration_s=4, leader_election_renew_interval_s=3)
    with pytest.raises(ValueError, match="VA_LEADER_ELECTION_RETRY_INTERVAL_S"):
        OperatorSettings(leader_election_retry_interval_s=6)


# --- Two real replicas ------------------------------------------------------------------------


@pytest.fixture
def failover_ns(kube_api: client.ApiClient, db: str) -> Iterator[str]:
    name = create_namespace(kube_api, "va-f-", db)
    yield name
    client.CoreV1Api(kube_api).delete_namespace(name)


def holder(kube_api: client.ApiClient, ns: str) -> str:
    try:
        lease = client.CoordinationV1Api(kube_api).read_namespaced_lease(LEASE, ns, _request_timeout=5)
    except ApiException as exc:
        if exc.status == 404:
            return ""
        raise
    return lease.spec.holder_identity or ""


def holds(kube_api: client.ApiClient, ns: str, proc: OperatorProcess) -> Any:
    """The identity is `<host>-<pid>-<suffix>`; the launcher runs Kopf in its own process."""
    assert proc.proc is not None
    pid = proc.proc.pid
    return lambda: f"-{pid}-" in holder(kube_api, ns)


def elected_env(db: str, ns: str, duration: int, renew: float) -> dict[str, str]:
    """An operator watching only `ns`, electing with the Lease there (polled every 0.2 s)."""
    return watch_env(
        db,
        [ns],
        VA_LEADER_ELECTION_LEASE=LEASE,
        VA_LEADER_ELECTION_NAMESPACE=ns,
        VA_LEADER_ELECTION_LEASE_DURATION_S=str(duration),
        VA_LEADER_ELECTION_RENEW_INTERVAL_S=str(renew),
        VA_LEADER_ELECTION_RETRY_INTERVAL_S="0.2",
    )


@contextmanager
def replicas(
    db: str, ns: str, kube_api: client.ApiClient, tmp_path: Path, duration: int, renew: float
) -> Iterator[tuple[OperatorProcess, OperatorProcess]]:
    """Two operators on `ns` electing with one Lease: the first holds it, the second stands by."""
    env = elected_env(db, ns, duration, renew)
    first, second = OperatorProcess(dict(env), tmp_path / "a.log"), OperatorProcess(dict(env), tmp_path / "b.log")
    try:
        first.start()
        _sync_wait(holds(kube_api, ns, first), "the first replica to hold the Lease")
        second.start()  # its liveness endpoint answers while it stands by
        _sync_wait(lambda: "Standby: waiting for Lease" in second.log_path.read_text(), "the standby's log")
        yield first, second
    finally:
        first.stop()
        second.stop()


def _sync_wait(predicate: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


async def create_resource(kube_api: client.ApiClient, ns: str) -> dict[str, Any]:
    body = build_videoanalysis(await api_task(ns), ns)
    custom = client.CustomObjectsApi(kube_api)
    return custom.create_namespaced_custom_object(names.GROUP, names.VERSION, ns, names.PLURAL, body)


def jobs_of(kube_api: client.ApiClient, ns: str, resource: dict[str, Any]) -> list[client.V1Job]:
    uid = resource["metadata"]["uid"]
    found = client.BatchV1Api(kube_api).list_namespaced_job(ns).items
    return [j for j in found if any(o.uid == uid for o in j.metadata.owner_references or [])]


async def handled(kube_api: client.ApiClient, ns: str, resource: dict[str, Any]) -> None:
    await wait_for(lambda: jobs_of(kube_api, ns, resource), what=f"the Job of {resource['metadata']['name']}")


def standby_answers(proc: OperatorProcess) -> Any:
    with urllib.request.urlopen(proc.env["VA_LIVENESS_ENDPOINT"], timeout=2) as resp:
        return json.loads(resp.read())


async def test_only_the_lease_holder_handles_resources_and_a_sigkill_hands_over_after_the_duration(
    db: str, kube_api: client.ApiClient, failover_ns: str, tmp_path: Path
) -> None:
    ns, duration, renew = failover_ns, 4, 1.0
    with replicas(db, ns, kube_api, tmp_path, duration, renew) as (leader, standby):
        assert standby_answers(standby) == {"standby": True}
        resources = [await create_resource(kube_api, ns) for _ in range(3)]
        for resource in resources:
            await handled(kube_api, ns, resource)
        await wait_for(lambda: "Handler" in leader.log_path.read_text(), what="the leader's handler log")
        for resource in resources:
            assert len(jobs_of(kube_api, ns, resource)) == 1
            assert f"[{ns}/{resource['metadata']['name']}]" in leader.log_path.read_text()
        log = standby.log_path.read_text()
        assert "Standby: waiting for Lease" in log and f"[{ns}/" not in log and "Handler" not in log

        assert leader.proc is not None
        os.killpg(leader.proc.pid, signal.SIGKILL)
        killed = time.monotonic()
        await wait_for(holds(kube_api, ns, standby), timeout=duration + 10, interval=0.05, what="the takeover")
        takeover = time.monotonic() - killed
        leader.proc.wait(5)
        print(f"\ntakeover after SIGKILL: {takeover:.2f} s (lease {duration} s, renewals every {renew} s)")
        # Never before the standby saw the Lease unrenewed for its duration (the last renewal was
        # at most `renew` before the kill), and soon after.
        assert duration - renew - 0.1 <= takeover <= duration + 2
        later = await create_resource(kube_api, ns)
        await handled(kube_api, ns, later)
        assert f"[{ns}/{later['metadata']['name']}]" in standby.log_path.read_text()
        for resource in resources:
            assert len(jobs_of(kube_api, ns, resource)) == 1


async def test_a_sigterm_releases_the_lease_and_the_standby_takes_over_at_once(
    db: str, kube_api: client.ApiClient, failover_ns: str, tmp_path: Path
) -> None:
    ns, duration, renew = failover_ns, 12, 3.0
    with replicas(db, ns, kube_api, tmp_path, duration, renew) as (leader, standby):
        assert leader.proc is not None
        leader.proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        await wait_for(holds(kube_api, ns, standby), timeout=duration, interval=0.05, what="the takeover")
        takeover = time.monotonic() - stopped
        print(f"\ntakeover after SIGTERM: {takeover:.2f} s (lease {duration} s)")
        # An expiry could not come before `duration - renew`: this was the release.
        assert takeover < duration - renew - 1
        # 0: Kopf's own graceful stop; 143: the signal came before Kopf took over SIGTERM, and
        # the launcher's handler unwound through the release. Either way the Lease went back.
        assert leader.proc.wait(10) in (0, 128 + signal.SIGTERM)
        assert "Released Lease" in leader.log_path.read_text()
        resource = await create_resource(kube_api, ns)
        await handled(kube_api, ns, resource)


async def test_a_leader_that_finds_another_holder_in_the_lease_exits_at_once(
    db: str, kube_api: client.ApiClient, failover_ns: str, tmp_path: Path
) -> None:
    """Crash-only: it stops handling before the new holder starts, and its Deployment restarts it."""
    ns = failover_ns
    leader = OperatorProcess(elected_env(db, ns, duration=6, renew=1), tmp_path / "leader.log")
    try:
        leader.start()
        _sync_wait(holds(kube_api, ns, leader), "the Lease")
        leases = client.CoordinationV1Api(kube_api)
        lease = leases.read_namespaced_lease(LEASE, ns)
        lease.spec.holder_identity = "another-replica"
        leases.replace_namespaced_lease(LEASE, ns, lease, field_validation="Strict")
        assert leader.proc is not None
        assert leader.proc.wait(5) == LOST_EXIT
        assert "Leadership lost: Lease" in (log := leader.log_path.read_text()) and "held by another-replica" in log
        assert holder(kube_api, ns) == "another-replica"  # left to its new holder
    finally:
        leader.stop()
