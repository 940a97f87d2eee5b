"""SimulatedKubelet: the one part of a cluster that cannot run here (no container runtime).

It acts at exactly the kubelet's boundary: it writes Pod status (the status subresource) the
way a kubelet reports a container running, finishing or failing to pull its image. The real
job controller then turns those Pods into the Job's verdict. `env_of` resolves the Pod's env
(including secretKeyRef) the way a kubelet would, so a test can run the Pod's own command.
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from typing import Any

from kubernetes import client


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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

    def _set(self, pod: client.V1Pod, phase: str, state: dict[str, Any]) -> None:
        container = pod.spec.containers[0]
        status = {
            "status": {
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
