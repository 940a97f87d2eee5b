"""Erasing a task on its owner's request: cancel it if it runs, then remove its video, its
rows (detections and webhook deliveries go with the task by cascade) and the resource the API
made for it. A resource applied by hand is left to its owner's Git: deleting it would only
have it re-created and run again."""

from __future__ import annotations

from pathlib import Path

from api.dispatchers import Dispatcher
from videoanalysis.models import Task, TaskOrigin
from videoanalysis.status import TaskStatus
from videoanalysis.storage import SCHEME, resolve_uri
from videoanalysis.tasks import transition


async def erase_task(task: Task, dispatcher: Dispatcher, videos_dir: Path) -> None:
    """Raises DispatchError when the run or the resource cannot be stopped (nothing erased)."""
    if not TaskStatus(task.status).is_final or task.origin == TaskOrigin.API:
        await dispatcher.cancel(task)  # stops the run; deletes the API-made resource
    await transition(task.id, TaskStatus.CANCELLED, error="cancelled by the owner before erasure")
    if task.video_uri.startswith(SCHEME):  # a file:// video is not ours to delete
        resolve_uri(task.video_uri, videos_dir).unlink(missing_ok=True)
    await Task.filter(id=task.id).delete()
