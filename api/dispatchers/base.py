"""The dispatcher interface the API talks to after a task row is written."""

from __future__ import annotations

from typing import Protocol

from videoanalysis.tables import Task


class DispatchError(Exception):
    """The task could not be started; the message says why (it is stored in the task row)."""


class Dispatcher(Protocol):
    name: str

    async def start(self) -> None:
        """Begin work at the server's start-up (the local queue resumes open tasks)."""

    async def submit(self, task: Task) -> None:
        """Start the analysis of a PENDING task. Raises DispatchError when it cannot."""

    async def cancel(self, task: Task) -> None:
        """Stop the task's run if one is in progress (idempotent)."""

    async def close(self) -> None:
        """Release what the dispatcher holds (processes, API clients) at shutdown."""
