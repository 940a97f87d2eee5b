"""Kubernetes API access: in-cluster config first, kubeconfig second, and error classing.

The official client is synchronous; callers run its calls in a worker thread
(`asyncio.to_thread`) so the operator's and the API's event loops never block. Every write
through it passes `**STRICT`.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Final, TypedDict

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException


class FieldValidation(TypedDict):
    field_validation: str


#: Passed to every write of this project through the client (`create_*`, `patch_*`, `replace_*`
#: methods, as `**kube.STRICT`): the API server refuses a body with an unknown or duplicate
#: field (naming it) instead of dropping the field with only a warning, so a misspelt field
#: fails where it is written. Custom objects and patches are plain dicts that only the server
#: checks. A test scans `api/`, `va_operator/` and `videoanalysis/` for a write without it.
#: Kopf's own writes (finalizers, its progress annotations, `kopf.info`/`kopf.warn` Events) go
#: through Kopf's own client and are exempt.
STRICT: Final[FieldValidation] = {"field_validation": "Strict"}


def new_api_client() -> client.ApiClient:
    """A client of the service account inside a Pod, else of $KUBECONFIG / ~/.kube/config."""
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
    except ConfigException:
        # Read $KUBECONFIG now, not at import time as the library's default does.
        config.load_kube_config(
            config_file=os.environ.get("KUBECONFIG", "~/.kube/config"), client_configuration=configuration
        )
    return client.ApiClient(configuration)


@functools.lru_cache(maxsize=1)
def api_client() -> client.ApiClient:
    """The process's shared client (the operator's)."""
    return new_api_client()


def reset_client() -> None:
    """Forget the cached client (tests switch clusters; a rotated token is picked up)."""
    api_client.cache_clear()


def batch() -> client.BatchV1Api:
    return client.BatchV1Api(api_client())


def core() -> client.CoreV1Api:
    return client.CoreV1Api(api_client())


def custom() -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client())


def is_transient(exc: BaseException) -> bool:
    """An API hiccup worth retrying: 429, 5xx, conflicts on update, or no connection."""
    if isinstance(exc, ApiException):
        return exc.status in (0, 409, 429) or exc.status >= 500
    return isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError)


def server_message(exc: ApiException) -> str:
    """The API server's own message of a refusal (the Status object's `message`)."""
    import json

    try:
        body: Any = json.loads(exc.body or "")
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    except ValueError:
        pass
    return f"{exc.status} {exc.reason}"
