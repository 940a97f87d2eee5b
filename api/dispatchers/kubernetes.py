"""The `kubernetes` dispatcher: a task becomes a VideoAnalysis resource; the operator runs it.

Submitting records the resource's namespace and name in the task row, then creates the
resource (the operator makes the Job): the operator binds a resource's `spec.taskId` only to
an API task whose row names that very resource, so a manifest naming someone else's task id
takes nothing over. A refusal by the API server raises DispatchError with the server's own
message, and nothing is left behind.
Cancelling deletes the resource: its Job goes with it through the owner reference.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from api.dispatchers.base import DispatchError
from videoanalysis.k8s import kube, names
from videoanalysis.k8s.resource import build_videoanalysis
from videoanalysis.tables import Task


class KubernetesDispatcher:
    """Creates and deletes VideoAnalysis resources in `settings.kube_namespace`."""

    name = "kubernetes"

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.namespace: str = settings.kube_namespace
        self._client: client.ApiClient | None = None

    def _api(self) -> client.CustomObjectsApi:
        if self._client is None:
            self._client = kube.new_api_client()
        return client.CustomObjectsApi(self._client)

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        api = await asyncio.to_thread(self._api)
        return await asyncio.to_thread(
            getattr(api, method), names.GROUP, names.VERSION, self.namespace, names.PLURAL, *args, **kwargs
        )

    async def start(self) -> None:
        """Nothing to resume here: the operator follows the resources."""

    async def submit(self, task: Task) -> None:
        body = build_videoanalysis(task, self.namespace)
        task.resource_namespace, task.resource_name = self.namespace, body["metadata"]["name"]
        await Task.filter(id=task.id).update(
            resource_namespace=task.resource_namespace, resource_name=task.resource_name
        )
        try:
            await self._call("create_namespaced_custom_object", body, **kube.STRICT)
        except ApiException as exc:
            if exc.status == 409 and await self._is_same_task(body):
                return  # submitted before (a retry): the resource is there
            raise DispatchError(f"the Kubernetes API refused the VideoAnalysis: {kube.server_message(exc)}") from None
        except Exception as exc:
            if kube.is_transient(exc) or isinstance(exc, OSError):
                raise DispatchError(f"the Kubernetes API is unreachable: {exc}") from None
            raise

    async def _is_same_task(self, body: dict[str, Any]) -> bool:
        existing = await self._call("get_namespaced_custom_object", body["metadata"]["name"])
        return existing.get("spec", {}).get("taskId") == body["spec"]["taskId"]

    async def cancel(self, task: Task) -> None:
        """Delete the task's resource (absent already: nothing to do)."""
        try:
            await self._call(
                "delete_namespaced_custom_object", names.resource_name(str(task.id)), propagation_policy="Background"
            )
        except ApiException as exc:
            if exc.status != 404:
                raise DispatchError(f"could not delete the VideoAnalysis: {kube.server_message(exc)}") from None

    async def close(self) -> None:
        if self._client is not None:
            await asyncio.to_thread(self._client.close)
            self._client = None
