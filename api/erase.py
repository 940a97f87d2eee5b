"""Erasing a task on its owner's request: cancel it if it runs, then remove its video, its
rows (detections and webhook deliveries go with the task by cascade) and the resource the API
made for it. A resource applied by hand is left to its owner's Git: deleting it would only
have it re-created and run again. The video is deleted only when the API stored it for this
task (an API task under a key of the API's upload); a manifest's video is its author's."""

from __future__ import annotations

from pathlib import Path

from api.dispatchers import Dispatcher
from videoanalysis.storage import resolve_uri
from videoanalysis.tables import Task, TaskOrigin
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition
from videoanalysis.uploadkeys import is_upload_uri


async def erase_task(task: Task, dispatcher: Dispatcher, videos_dir: Path) -> None:
    """Raises DispatchError when the run or the resource cannot be stopped (nothing erased)."""
    if not TaskStatus(task.status).is_final or made_a_resource(task):
        await dispatcher.cancel(task)  # stops the run; deletes the API-made resource
    await transition(task.id, TaskStatus.CANCELLED, error="cancelled by the owner before erasure")
    if stored_by_api(task):
        resolve_uri(task.video_uri, videos_dir).unlink(missing_ok=True)
    await Task.filter(id=task.id).delete()


def made_a_resource(task: Task) -> bool:
    """The API's kubernetes dispatcher made a resource for this task (it names it in the row
    before creating it). An ended task without one has nothing left to stop: the local
    dispatcher is not asked to cancel it."""
    return task.origin == TaskOrigin.API and task.resource_name is not None


def stored_by_api(task: Task) -> bool:
    """The API's upload stored this task's video: never a file:// path, a URL or a manifest's."""
    return task.origin == TaskOrigin.API and is_upload_uri(task.video_uri)
