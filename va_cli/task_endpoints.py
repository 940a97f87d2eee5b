"""The API's task endpoints, as the CLI uses them (field names from api/schemas.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from va_cli.client import ApiClient
from va_cli.errors import EXIT_NOT_FOUND, CliError
from va_cli.upload import MultipartUpload

UPLOAD_PATH = "/tasks/video-objects-detection/"
PAGE_SIZE = 500


def task_id_arg(value: str) -> str:
    """A task id as the user typed it, checked to be a UUID before it reaches a URL."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise CliError(f"task {value} not found (not a task id)", EXIT_NOT_FOUND) from None


def _not_found(task_id: str) -> str:
    return f"task {task_id} not found"


def upload(
    client: ApiClient, path: Path, fields: dict[str, str], on_chunk: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Stream `path` as the `videofile` field; return the created task. One Idempotency-Key per
    call: a resend of this upload (after a token refresh) answers the same task."""
    body = lambda: MultipartUpload(path, "videofile", fields, on_chunk)  # noqa: E731
    key = {"Idempotency-Key": f"cli-{uuid.uuid4()}"}
    return client.send("POST", UPLOAD_PATH, body=body, headers=key).json()


def result_page(client: ApiClient, task_id: str, limit: int = PAGE_SIZE, cursor: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    return client.send(
        "GET", f"/tasks/video-analysis-result/{task_id}/", params=params, not_found=_not_found(task_id)
    ).json()


def task_status(client: ApiClient, task_id: str) -> dict[str, Any]:
    """The task without its detections (one frame is the smallest page the API serves)."""
    return result_page(client, task_id, limit=1)


def iter_frames(
    client: ApiClient, task_id: str, first: dict[str, Any] | None = None, page_size: int = PAGE_SIZE
) -> Iterator[dict[str, Any]]:
    """Every stored frame of the task in order, fetched page by page."""
    page = first or result_page(client, task_id, page_size)
    while True:
        yield from page["detections"]
        if page.get("next_cursor") is None:
            return
        page = result_page(client, task_id, page_size, page["next_cursor"])


def iter_tasks(client: ApiClient, page_size: int = 100) -> Iterator[dict[str, Any]]:
    """The user's tasks, newest first, fetched page by page."""
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": page_size}
        if cursor:
            params["cursor"] = cursor
        page = client.send("GET", "/tasks/", params=params).json()
        yield from page["tasks"]
        cursor = page.get("next_cursor")
        if not cursor:
            return


def _paged(client: ApiClient, task_id: str, what: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The items of `/tasks/{task_id}/{what}/`, following its `next_cursor` page by page."""
    params = dict(params)
    while True:
        page = client.send("GET", f"/tasks/{task_id}/{what}/", params=params, not_found=_not_found(task_id)).json()
        yield from page[what]
        if not page.get("next_cursor"):
            return
        params["cursor"] = page["next_cursor"]


def iter_tracks(client: ApiClient, task_id: str, page_size: int = 1000) -> Iterator[dict[str, Any]]:
    """The task's tracks by track id, fetched page by page."""
    return _paged(client, task_id, "tracks", {"limit": page_size})


def iter_events(
    client: ApiClient, task_id: str, filters: dict[str, Any] | None = None, page_size: int = 1000
) -> Iterator[dict[str, Any]]:
    """The task's zone and line events in frame order (`filters`: rule, kind, label, since_s,
    until_s), fetched page by page."""
    chosen = {k: v for k, v in (filters or {}).items() if v is not None}
    return _paged(client, task_id, "events", {"limit": page_size, **chosen})


def erase(client: ApiClient, task_id: str) -> None:
    client.send("DELETE", f"/tasks/{task_id}/", params={"erase": "true"}, not_found=_not_found(task_id))


def cancel(client: ApiClient, task_id: str) -> dict[str, Any] | None:
    response = client.send("DELETE", f"/tasks/{task_id}/", not_found=_not_found(task_id))
    return response.json() if response.content else None
