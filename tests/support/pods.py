"""The Pods' side of the test cluster. The scheduler binds every Pod to a fake node that KWOK
keeps alive (nodes.py); what would run the Pod's container is the one part of a
cluster that cannot run here (no container runtime), and it is played in one of two ways:

- `KwokPods`: a test gives a Pod a verdict label and KWOK's Stages (scripts/k8s/kwok.yaml)
  report the container running, exiting with a code, disrupted or failing to pull its image,
  as a kubelet would. The real job controller then turns those Pods into the Job's verdict.
- `PodRunner`: the container runtime, simulated: once the scheduler bound the Pod, it runs the
  Pod's own command (`python -m inference_job ...`) as a local process with the Pod's env and
  reports its start and its exit through the Pod status.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.paths import ROOT

VERDICT = "sim.videoanalysis.test/verdict"
EXIT_CODE = "sim.videoanalysis.test/exit-code"
MESSAGE = "sim.videoanalysis.test/message"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bound(pod: client.V1Pod) -> bool:
    return bool(pod.spec.node_name)


class KwokPods:
    """Verdicts for a Job's Pods, played by KWOK on the node the scheduler chose."""

    def __init__(self, api: client.ApiClient) -> None:
        self.core = client.CoreV1Api(api)

    def wait_for_pods(
        self, namespace: str, job: str, count: int = 1, timeout: float = 30, scheduled: bool = True
    ) -> list[client.V1Pod]:
        """`count` Pods the job controller created for `job` (oldest first), each bound to a
        node by the scheduler unless `scheduled=False`."""
        deadline = time.monotonic() + timeout
        while True:
            pods = self.core.list_namespaced_pod(namespace, label_selector=f"job-name={job}").items
            if len(pods) >= count and (not scheduled or all(bound(p) for p in pods)):
                return sorted(pods, key=lambda p: p.metadata.creation_timestamp)
            if time.monotonic() > deadline:
                placed = sum(bound(p) for p in pods)
                raise TimeoutError(f"{len(pods)} of {count} pod(s) of Job {job}, {placed} scheduled, after {timeout}s")
            time.sleep(0.2)

    def _verdict(
        self,
        pod: client.V1Pod,
        labels: dict[str, str],
        done: Callable[[client.V1Pod], bool],
        annotations: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> client.V1Pod | None:
        meta: dict[str, Any] = {"labels": labels}
        if annotations:
            meta["annotations"] = annotations
        self.core.patch_namespaced_pod(pod.metadata.name, pod.metadata.namespace, {"metadata": meta})
        deadline = time.monotonic() + timeout
        while True:
            try:
                current = self.core.read_namespaced_pod(pod.metadata.name, pod.metadata.namespace)
            except ApiException as exc:
                if exc.status == 404:  # played, seen and deleted already (a Job stopped at once)
                    return None
                raise
            if done(current):
                return current
            if time.monotonic() > deadline:
                raise TimeoutError(f"KWOK did not play {labels} on pod {pod.metadata.name}: {current.status}")
            time.sleep(0.1)

    def run(self, pod: client.V1Pod) -> client.V1Pod | None:
        """The container starts (phase Running)."""
        return self._verdict(pod, {VERDICT: "run"}, lambda p: p.status.phase == "Running")

    def finish(self, pod: client.V1Pod, exit_code: int = 0, message: str = "") -> client.V1Pod | None:
        """The container runs (if it did not yet) and exits with `exit_code`."""
        labels = {VERDICT: "succeed" if exit_code == 0 else "fail", EXIT_CODE: str(exit_code)}
        return self._verdict(
            pod, labels, lambda p: p.status.phase in ("Succeeded", "Failed"), {MESSAGE: message} if message else None
        )

    def disrupt(self, pod: client.V1Pod) -> client.V1Pod | None:
        """Killed by a disruption (preemption, a drained node): DisruptionTarget, then exit 137."""
        return self._verdict(pod, {VERDICT: "disrupt"}, lambda p: p.status.phase == "Failed")

    def image_pull_backoff(self, pod: client.V1Pod) -> client.V1Pod | None:
        def waiting(p: client.V1Pod) -> bool:
            states = [cs.state.waiting for cs in p.status.container_statuses or [] if cs.state.waiting]
            return any(w.reason == "ImagePullBackOff" for w in states)

        return self._verdict(pod, {VERDICT: "image-pull-backoff"}, waiting)


class PodRunner:
    """The simulated container runtime (the only simulated part of the cluster): runs a bound
    Pod's own command as a local process and reports it through the Pod status."""

    def __init__(self, api: client.ApiClient) -> None:
        self.core = client.CoreV1Api(api)

    def _set(self, pod: client.V1Pod, phase: str, state: dict[str, Any]) -> None:
        container = pod.spec.containers[0]
        status = {
            "phase": phase,
            "startTime": _now(),
            "containerStatuses": [
                {
                    "name": container.name,
                    "image": container.image,
                    "imageID": "",
                    "ready": phase == "Running",
                    "restartCount": 0,
                    "state": state,
                }
            ],
        }
        self.core.patch_namespaced_pod_status(pod.metadata.name, pod.metadata.namespace, {"status": status})

    def _bound(self, pod: client.V1Pod, timeout: float = 30) -> client.V1Pod:
        deadline = time.monotonic() + timeout
        while not bound(pod):
            if time.monotonic() > deadline:
                raise TimeoutError(f"pod {pod.metadata.name} was not scheduled within {timeout}s")
            time.sleep(0.2)
            pod = self.core.read_namespaced_pod(pod.metadata.name, pod.metadata.namespace)
        if VERDICT in (pod.metadata.labels or {}):
            raise AssertionError(f"pod {pod.metadata.name} is KWOK's to play (it has a verdict)")
        return pod

    def start(self, pod: client.V1Pod) -> client.V1Pod:
        """The container started on the node the scheduler chose (phase Running)."""
        pod = self._bound(pod)
        self._set(pod, "Running", {"running": {"startedAt": _now()}})
        return pod

    def exited(self, pod: client.V1Pod, exit_code: int, message: str = "") -> None:
        term: dict[str, Any] = {
            "exitCode": exit_code,
            "reason": "Completed" if exit_code == 0 else "Error",
            "startedAt": _now(),
            "finishedAt": _now(),
        }
        if message:
            term["message"] = message
        self._set(pod, "Succeeded" if exit_code == 0 else "Failed", {"terminated": term})

    def env_of(self, pod: client.V1Pod) -> dict[str, str]:
        """The container's environment as the kubelet gives it: secretKeyRef values read from the
        Secret, a fieldRef to one of the Pod's labels or annotations (an Indexed Job's
        JOB_COMPLETION_INDEX) read from the Pod."""
        env: dict[str, str] = {}
        for var in pod.spec.containers[0].env or []:
            if var.value_from is not None and var.value_from.secret_key_ref is not None:
                ref = var.value_from.secret_key_ref
                secret = self.core.read_namespaced_secret(ref.name, pod.metadata.namespace)
                env[var.name] = base64.b64decode(secret.data[ref.key]).decode()
            elif var.value_from is not None and var.value_from.field_ref is not None:
                path = var.value_from.field_ref.field_path
                match = re.fullmatch(r"metadata\.(annotations|labels)\['(.+)'\]", path)
                if match is None:
                    raise NotImplementedError(f"the pod runner resolves labels and annotations only, not {path}")
                env[var.name] = (getattr(pod.metadata, match[1]) or {})[match[2]]
            else:
                env[var.name] = var.value or ""
        return env

    async def execute(self, pod: client.V1Pod, timeout: float = 120, **env: str) -> tuple[int, str]:
        """The container's own command (`python -m inference_job ...`) as a local process with
        the Pod's env, `env` overriding it (volume mounts become local folders); returns its
        exit code and output. Reports nothing: `start` and `exited` do."""
        command = pod.spec.containers[0].command
        if command[:3] != ["python", "-m", "inference_job"]:
            raise AssertionError(f"unexpected container command {command}")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *command[1:],
            cwd=ROOT,
            env={**os.environ, **self.env_of(pod), **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout=timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert proc.returncode is not None
        return proc.returncode, out.decode(errors="replace")

    async def run_to_exit(self, pod: client.V1Pod, timeout: float = 120, **env: str) -> tuple[int, str]:
        """Start the Pod once it is bound, run its command, report its exit; returns the
        exit code and output."""
        pod = await asyncio.to_thread(self.start, pod)
        code, out = await self.execute(pod, timeout, **env)
        await asyncio.to_thread(
            self.exited, pod, code, out.strip().splitlines()[-1][:1024] if code and out.strip() else ""
        )
        return code, out


@pytest.fixture
def kwok(kube_api: client.ApiClient) -> KwokPods:
    return KwokPods(kube_api)
