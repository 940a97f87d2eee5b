"""SimulatedKubelet: the one part of a cluster that cannot run here (no container runtime).

It acts at exactly the kubelet's boundary: it writes Pod status (the status subresource) the
way a kubelet reports a container running, finishing or failing to pull its image. The real
job controller then turns those Pods into the Job's verdict. `env_of` resolves the Pod's env
(including secretKeyRef) the way a kubelet would, and `execute` runs the Pod's own command.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


ROOT = Path(__file__).resolve().parents[2]


class SimulatedKubelet:
    def __init__(self, api: client.ApiClient) -> None:
        self.core = client.CoreV1Api(api)

    def wait_for_pods(self, namespace: str, job: str, count: int = 1, timeout: float = 30) -> list[client.V1Pod]:
        """Pods the job controller created for `job` (newest last)."""
        deadline = time.monotonic() + timeout
        while True:
            pods = self.core.list_namespaced_pod(namespace, label_selector=f"job-name={job}").items
            if len(pods) >= count:
                return sorted(pods, key=lambda p: p.metadata.creation_timestamp)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pods)} of {count} pod(s) of Job {job} after {timeout}s")
            time.sleep(0.2)

    def _set(
        self, pod: client.V1Pod, phase: str, state: dict[str, Any], conditions: list[dict[str, str]] | None = None
    ) -> None:
        container = pod.spec.containers[0]
        status = {
            "status": {
                **({"conditions": conditions} if conditions else {}),
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
        }
        self.core.patch_namespaced_pod_status(pod.metadata.name, pod.metadata.namespace, status)

    def run(self, pod: client.V1Pod) -> None:
        self._set(pod, "Running", {"running": {"startedAt": _now()}})

    def finish(self, pod: client.V1Pod, exit_code: int = 0, message: str = "") -> None:
        term = {
            "exitCode": exit_code,
            "reason": "Completed" if exit_code == 0 else "Error",
            "startedAt": _now(),
            "finishedAt": _now(),
        }
        if message:
            term["message"] = message
        self._set(pod, "Succeeded" if exit_code == 0 else "Failed", {"terminated": term})

    def disrupt(self, pod: client.V1Pod) -> None:
        """The Pod killed by a disruption (preemption, a drained node): the condition a kubelet
        or the scheduler sets, then the container's end."""
        condition = {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "PreemptionByScheduler",
            "lastTransitionTime": _now(),
        }
        term = {"exitCode": 137, "reason": "Error", "startedAt": _now(), "finishedAt": _now()}
        self._set(pod, "Failed", {"terminated": term}, conditions=[condition])

    def image_pull_backoff(self, pod: client.V1Pod) -> None:
        image = pod.spec.containers[0].image
        self._set(
            pod, "Pending", {"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}}
        )

    def env_of(self, pod: client.V1Pod) -> dict[str, str]:
        """The container's environment, secretKeyRef values read from the Secret."""
        env: dict[str, str] = {}
        for var in pod.spec.containers[0].env or []:
            if var.value_from is not None and var.value_from.secret_key_ref is not None:
                ref = var.value_from.secret_key_ref
                secret = self.core.read_namespaced_secret(ref.name, pod.metadata.namespace)
                env[var.name] = base64.b64decode(secret.data[ref.key]).decode()
            else:
                env[var.name] = var.value or ""
        return env

    async def execute(self, pod: client.V1Pod, timeout: float = 120, **env: str) -> tuple[int, str]:
        """The container's own command (`python -m inference_job ...`) as a local process with
        the Pod's env, `env` overriding it (volume mounts become local folders); returns its
        exit code and output."""
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
