"""Leader election of the operator's replicas through a coordination.k8s.io/v1 Lease.

Kopf's peering pauses replicas of equal priority instead of electing one, so the launcher
blocks here until this replica holds the Lease and only then starts Kopf; the others stand by.

Clocks of different machines are never compared. As in client-go, a candidate takes a Lease
that was not released only after it has seen the record unchanged (holder, renewTime,
resourceVersion) for the record's `leaseDurationSeconds` on its own monotonic clock; the
renewTime written is for people only. Every write is a create or a replace at the
resourceVersion read, so of two candidates one gets 409 and stays a standby.

The leader renews from a thread of its own (the client is synchronous and Kopf's event loop
may be busy) and ends the process when no renewal succeeded for the lease duration less the
renew interval, or when another identity holds the Lease: crash-only, the Deployment starts it
again as a standby. It stops before any standby may take over: its deadline counts from the
start of its last successful renewal, a standby's from when it saw that renewal, which is later.
Every request to the API server carries a timeout. One module: the record, the expiry clock and
the elector are the one protocol this text describes, and only the elector uses the other two.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from va_operator.config import OperatorSettings
from videoanalysis.k8s import kube

log = logging.getLogger(__name__)

#: Exit status of a leader that lost its Lease (EX_TEMPFAIL: a restart, as a standby, is the fix).
LOST_EXIT = 75

Clock = Callable[[], float]
#: What a standby retries: the API server's refusals (RBAC, 5xx), no connection, timeouts.
RETRIED = (ApiException, urllib3.exceptions.HTTPError, OSError)


class LeadershipLost(Exception):
    """Another identity (or nobody) holds the Lease this replica was renewing."""


def new_identity() -> str:
    """Host name (the Pod's name in a cluster), pid and a random suffix: one per process run."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def micro_time(moment: datetime | None = None) -> str:
    """A MicroTime as the API server writes it (always six fractional digits)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """What a candidate reads of the Lease; holder "" means released or never held."""

    holder: str
    duration_s: int
    transitions: int
    renew_time: str
    acquire_time: str
    version: str  # the resourceVersion every replace is conditional on

    @classmethod
    def of(cls, lease: Any) -> LeaseRecord:
        spec = lease.spec
        return cls(
            holder=spec.holder_identity or "",
            duration_s=spec.lease_duration_seconds or 0,
            transitions=spec.lease_transitions or 0,
            renew_time=micro_time(spec.renew_time) if spec.renew_time else "",
            acquire_time=micro_time(spec.acquire_time) if spec.acquire_time else "",
            version=lease.metadata.resource_version,
        )


class ExpiryObserver:
    """When this process last saw the Lease record change, on its own monotonic clock."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._seen: tuple[str, str, str] | None = None
        self._since = 0.0

    def observe(self, record: LeaseRecord) -> None:
        key = (record.holder, record.renew_time, record.version)
        if key != self._seen:
            self._seen, self._since = key, self._clock()

    def expired(self, record: LeaseRecord) -> bool:
        """Free to take: released, or seen unchanged for its whole duration (a fresh observer
        waits that long even for a holder that died long ago: it cannot know when it did)."""
        self.observe(record)
        return not record.holder or self._clock() - self._since >= record.duration_s


def exit_lost(reason: str) -> None:
    """End the whole process at once: `sys.exit` would end only the renewal thread, and Kopf's
    graceful stop could go on handling resources after a standby took over."""
    log.critical("Leadership lost: %s. Exiting to restart as a standby.", reason)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(LOST_EXIT)


class LeaseElector:
    """Acquire (blocking), renew (a thread) and release one Lease under one identity."""

    def __init__(
        self,
        api: Any,
        namespace: str,
        name: str,
        *,
        identity: str,
        duration_s: int,
        renew_s: float,
        retry_s: float,
        clock: Clock = time.monotonic,
        on_lost: Callable[[str], None] = exit_lost,
    ) -> None:
        self.api, self.namespace, self.name, self.identity = api, namespace, name, identity
        self.duration_s, self.renew_s, self.retry_s = duration_s, renew_s, retry_s
        self.request_timeout_s = renew_s  # every wait on the API server ends
        self.observer = ExpiryObserver(clock)
        self.holder = ""  # as last read
        self.held = False
        self.acquired_at = 0.0  # on `clock`: the start of the request that took the Lease
        self._clock, self._on_lost = clock, on_lost
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one request at a time: the renewal thread and release
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: OperatorSettings) -> LeaseElector:
        # A client of its own: a connection pool that Kopf's handlers saturate delays no renewal.
        api = client.CoordinationV1Api(kube.new_api_client())
        return cls(
            api,
            settings.lease_namespace,
            settings.leader_election_lease,
            identity=new_identity(),
            duration_s=settings.leader_election_lease_duration_s,
            renew_s=settings.leader_election_renew_interval_s,
            retry_s=settings.leader_election_retry_interval_s,
        )

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"

    def try_acquire_or_renew(self, timeout: float) -> bool:
        """One round: True when this identity holds the Lease after it, False when another does
        (or won the race). Raises LeadershipLost when renewing and another identity is there."""
        try:
            lease = self.api.read_namespaced_lease(self.name, self.namespace, _request_timeout=timeout)
        except ApiException as exc:
            if exc.status != 404:
                raise
            return self._write(None, timeout)
        record = LeaseRecord.of(lease)
        self.holder = record.holder
        if self.held and record.holder != self.identity:
            raise LeadershipLost(f"Lease {self.where} is held by {record.holder or 'nobody'} now")
        if record.holder != self.identity and not self.observer.expired(record):
            return False
        return self._write(record, timeout)

    def _write(self, record: LeaseRecord | None, timeout: float) -> bool:
        now = micro_time()
        spec: dict[str, Any] = {"holderIdentity": self.identity, "leaseDurationSeconds": self.duration_s}
        if record is not None and record.holder == self.identity:
            spec |= {"acquireTime": record.acquire_time or now, "leaseTransitions": record.transitions}
        else:
            spec |= {"acquireTime": now, "leaseTransitions": record.transitions + 1 if record else 0}
        spec["renewTime"] = now
        try:
            self._put(spec, record.version if record else None, timeout)
        except ApiException as exc:
            if exc.status == 409:  # another candidate wrote first: read again next round
                return False
            raise
        self.held, self.holder = True, self.identity
        return True

    def _put(self, spec: dict[str, Any], version: str | None, timeout: float) -> None:
        """Create the Lease, or replace it at `version` (409 when someone wrote since)."""
        meta = {"name": self.name, "namespace": self.namespace}
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": spec}
        if version is None:
            self.api.create_namespaced_lease(self.namespace, body, _request_timeout=timeout, **kube.STRICT)
        else:
            meta["resourceVersion"] = version
            self.api.replace_namespaced_lease(self.name, self.namespace, body, _request_timeout=timeout, **kube.STRICT)

    def acquire(self) -> None:
        """Block until this identity holds the Lease, polling every retry interval."""
        announced: str | None = None
        while True:
            started = self._clock()
            try:
                with self._lock:
                    if self.try_acquire_or_renew(self.request_timeout_s):
                        self.acquired_at = started
                        log.info("Leader: this replica (%s) holds Lease %s.", self.identity, self.where)
                        return
            except RETRIED as exc:
                log.warning("Reading Lease %s failed, retrying: %s", self.where, _describe(exc))
            else:
                if self.holder != announced:
                    announced = self.holder
                    log.info(
                        "Standby: waiting for Lease %s, held by %s; taking over when it is released or "
                        "unrenewed for %d s.",
                        self.where,
                        self.holder,
                        self.duration_s,
                    )
            time.sleep(self.retry_s)

    def start_renewing(self) -> None:
        self._thread = threading.Thread(target=self._renewal_thread, name="lease-renewal", daemon=True)
        self._thread.start()

    def _renewal_thread(self) -> None:
        try:
            reason = self._renew_until_stopped_or_lost()
        except BaseException as exc:  # a renewal thread that died would leave a leader renewing nothing
            reason = f"the renewal thread failed: {_describe(exc)}"
        if reason and not self._stop.is_set():
            self._on_lost(reason)

    def _renew_until_stopped_or_lost(self) -> str:
        """Renew every renew interval (every retry interval after a failure); the reason the
        Lease is lost, or "" once stopped."""
        last_ok, ok = self.acquired_at, True
        while True:
            give_up = last_ok + self.duration_s - self.renew_s
            wake = last_ok + self.renew_s if ok else self._clock() + self.retry_s
            if self._stop.wait(max(0.0, min(wake, give_up) - self._clock())):
                return ""
            started = self._clock()
            if started >= give_up:
                return f"no renewal of Lease {self.where} succeeded for {started - last_ok:.1f} s"
            try:
                with self._lock:
                    if self._stop.is_set():
                        return ""
                    ok = self.try_acquire_or_renew(min(self.request_timeout_s, give_up - started))
            except LeadershipLost as exc:
                return str(exc)
            except Exception as exc:  # whatever failed, only the deadline decides
                ok = False
                log.warning("Renewing Lease %s failed: %s", self.where, _describe(exc))
            if ok:
                last_ok = started

    def release(self) -> None:
        """Stop renewing and hand the Lease back (no holder, 1 s) so a standby takes it at once.
        Best effort: if this fails, a standby takes over after the lease duration instead."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.request_timeout_s + 1)
        if not self._lock.acquire(timeout=self.request_timeout_s + 1):
            log.warning("Lease %s not released: a renewal is still in flight.", self.where)
            return
        try:
            lease = self.api.read_namespaced_lease(self.name, self.namespace, _request_timeout=self.request_timeout_s)
            record = LeaseRecord.of(lease)
            if record.holder != self.identity:
                return
            now = micro_time()
            spec = {"leaseDurationSeconds": 1, "leaseTransitions": record.transitions, "renewTime": now}
            self._put({**spec, "acquireTime": now}, record.version, self.request_timeout_s)
            self.held = False
            log.info("Released Lease %s.", self.where)
        except RETRIED as exc:
            log.warning("Lease %s not released (a standby takes over when it expires): %s", self.where, _describe(exc))
        finally:
            self._lock.release()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ApiException):
        return kube.server_message(exc)
    return f"{type(exc).__name__}: {exc}"
