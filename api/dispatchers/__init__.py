"""Dispatchers run a stored task: `local` (subprocess, embedded default) or `kubernetes`;
`intents` makes the cluster's dispatch survive a crash between the task row and the dispatch."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from api.dispatchers.base import Dispatcher, DispatchError

if TYPE_CHECKING:
    from api.config import ApiSettings

__all__ = ["DispatchError", "Dispatcher", "create_dispatcher"]


def create_dispatcher(settings: ApiSettings) -> Dispatcher:
    """The dispatcher named by VA_DISPATCHER. The Kubernetes one is imported only when chosen,
    so the embedded default never loads the Kubernetes client."""
    if settings.dispatcher == "local":
        from api.dispatchers.local import LocalDispatcher

        return LocalDispatcher(settings)
    if settings.dispatcher == "kubernetes":
        module = importlib.import_module("api.dispatchers.kubernetes")
        return module.KubernetesDispatcher(settings)
    raise ValueError(f"VA_DISPATCHER: unknown dispatcher {settings.dispatcher!r}")
