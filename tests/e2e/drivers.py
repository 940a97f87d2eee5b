"""Cluster drivers: the one place where the end-to-end test differs between clusters.

- `SimulatedCluster` (the default, `make test`): the test control plane of tests/support/cluster.py
  (scheduler and KWOK nodes included), a real operator process, and the API app in-process
  with the kubernetes dispatcher. Nothing there runs containers, so `run_job` plays the
  container runtime once the scheduler placed the Pod: it runs the Pod's own command with the
  Pod's env as a local process and writes the Pod's status (tests/support/pods.py `PodRunner`).
- `RealCluster` (`make e2e-kind`: `KUBECONFIG` + `VA_E2E_API_URL`): the chart is installed, the
  API is reached over HTTP, and the real kubelet runs the Job, so `run_job` does nothing.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from kubernetes import client

from tests.support.pods import KwokPods, PodRunner
from tests.support.resources import phase_is
from tests.support.waits import wait_for

#: Namespaces of this folder's operator (apart from the session operator's `va-t-*`, so the
#: two never meet).
NAMESPACE_PREFIX = "va-e2e-"
#: VA_RETENTION_DAYS of this folder's operator.
RETENTION_DAYS = 30
#: Set by scripts/e2e-kind.sh: the port-forwarded API of the installed chart.
API_URL_ENV = "VA_E2E_API_URL"
#: The release's namespace on the real cluster (default: the script's).
NAMESPACE_ENV = "VA_E2E_NAMESPACE"
#: Seconds to wait for a phase on the real cluster (pulling nothing, but a real Pod starts).
TIMEOUT_ENV = "VA_E2E_TIMEOUT_S"


class ClusterDriver(Protocol):
    """What the end-to-end test needs from a cluster."""

    kube: client.ApiClient
    namespace: str
    timeout: float

    def api(self) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        """An HTTP client of the API whose dispatcher creates resources in `namespace`."""

    async def run_job(self, job: client.V1Job) -> None:
        """Whatever the cluster lacks to run the Job's Pod to completion."""


def real_cluster_url() -> str | None:
    """The API URL of a full cluster, or None for the simulated one."""
    return os.environ.get(API_URL_ENV) or None


@dataclass
class RealCluster:
    """A full cluster (kind): the deployed API over HTTP, the real kubelet runs the Job."""

    kube: client.ApiClient
    namespace: str
    url: str
    timeout: float = 300.0

    @classmethod
    def from_env(cls) -> RealCluster:
        from videoanalysis.k8s import kube

        return cls(
            kube=kube.new_api_client(),
            namespace=os.environ.get(NAMESPACE_ENV, "videoanalysis"),
            url=os.environ[API_URL_ENV],
            timeout=float(os.environ.get(TIMEOUT_ENV, "300")),
        )

    @asynccontextmanager
    async def api(self) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as http:
            yield http

    async def run_job(self, job: client.V1Job) -> None:
        """Nothing: the kubelet of the kind node pulls nothing (images are loaded) and runs it."""


@dataclass
class SimulatedCluster:
    """The test control plane; the container runtime's part is played here (see the module docstring)."""

    kube: client.ApiClient
    namespace: str
    open_api_client: Callable[..., AbstractAsyncContextManager[Any]]
    work_dir: Path
    timeout: float = 30.0

    @property
    def videos_dir(self) -> Path:
        """The API's uploads folder: the PVC the Job mounts at VA_VIDEOS_DIR."""
        return self.work_dir / "videos"

    def api(self) -> AbstractAsyncContextManager[Any]:
        return self.open_api_client(dispatcher="kubernetes", kube_namespace=self.namespace, videos_dir=self.videos_dir)

    async def run_job(self, job: client.V1Job) -> None:
        """Once the scheduler placed the Pod: report it running, run its command with the Pod's
        env (the volume mounts become local folders), report how it ended."""
        runner = PodRunner(self.kube)
        [pod] = await asyncio.to_thread(KwokPods(self.kube).wait_for_pods, self.namespace, job.metadata.name)
        pod = await asyncio.to_thread(runner.start, pod)
        resource = job.metadata.owner_references[0].name
        await wait_for(phase_is(self.kube, self.namespace, resource, "Running"), what="Running")
        code, out = await runner.execute(
            pod, VA_VIDEOS_DIR=str(self.videos_dir), VA_DATA_DIR=str(self.work_dir / "job-data")
        )
        await asyncio.to_thread(runner.exited, pod, code)
        if code != 0:
            raise AssertionError(f"the Pod's command failed:\n{out[-2000:]}")
