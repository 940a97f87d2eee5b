"""The task's status machine: its statuses and the moves allowed between them (made on the row by
`videoanalysis.transitions`), shared by the API, the job and the operator."""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED})

# Allowed moves; anything else is ignored so a late or repeated event cannot undo an ending.
TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PENDING: frozenset({TaskStatus.RUNNING, *FINAL_STATUSES}),
    TaskStatus.RUNNING: frozenset({TaskStatus.RUNNING, *FINAL_STATUSES}),
    TaskStatus.SUCCEEDED: frozenset(),
    TaskStatus.FAILED: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}


def can_move(current: TaskStatus, new: TaskStatus) -> bool:
    return new in TRANSITIONS[current]
