"""How a retention sweep walks its due rows, for the API's (api.retention) and the operator's
(va_operator.retention): what "due" means and how one row is erased is theirs.

Oldest first, by the ending time (`finished_at`, then `id`), in batches read after the last row
seen (a keyset, so rows erased meanwhile shift nothing), until no due row is left or the sweep's
time is up (`budget_s`): a busy cluster is caught up with in one sweep, not 500 rows an hour.
An erase that fails is logged with what the row is (`describe`: the task, or the resource it
came from) and the sweep goes on with the next row; the row is left alone for an hour, then
twice as long after each further failure (at most a day), so rows that keep failing neither
come back first nor hold the others back. That memory is the process's (`Backoff`): after a
restart every due row is tried once more, which is all a row needs to be retried.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from videoanalysis.tables import Task

log = logging.getLogger(__name__)

SWEEP_BUDGET_S = 600.0  # one sweep's time; what is left is the next sweep's
BATCH = 200


class Backoff:
    """When a row whose erase failed is tried again: `first_s` after its first failure, twice
    as long after each further one, at most `max_s`; forgotten once it is erased or no longer due."""

    def __init__(
        self, first_s: float = 3600.0, max_s: float = 86400.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.first_s, self.max_s, self.clock = first_s, max_s, clock
        self._failures: dict[uuid.UUID, tuple[int, float]] = {}  # id: (failures, not before)

    def due(self, key: uuid.UUID) -> bool:
        entry = self._failures.get(key)
        return entry is None or self.clock() >= entry[1]

    def failed(self, key: uuid.UUID) -> float:
        """Record a failure; returns the seconds until the row is tried again."""
        failures = self._failures.get(key, (0, 0.0))[0] + 1
        delay = min(self.first_s * 2 ** (failures - 1), self.max_s)
        self._failures[key] = (failures, self.clock() + delay)
        return delay

    def forget(self, key: uuid.UUID) -> None:
        self._failures.pop(key, None)

    def keep_only(self, keys: set[uuid.UUID]) -> None:
        """Forget the rows not in `keys` (those a whole sweep saw due): erased by others meanwhile."""
        self._failures = {k: v for k, v in self._failures.items() if k in keys}

    def __len__(self) -> int:
        return len(self._failures)


async def sweep(
    due: QuerySet[Task],
    erase: Callable[[Task], Awaitable[Any]],
    describe: Callable[[Task], str],
    backoff: Backoff,
    *,
    expected: tuple[type[Exception], ...] = (),
    budget_s: float = SWEEP_BUDGET_S,
    batch: int = BATCH,
) -> int:
    """Erase the rows of `due` oldest first until none is left or `budget_s` has passed;
    returns how many were erased. An `expected` failure is logged at WARNING, any other with
    its traceback; either way the sweep goes on and the row waits for `backoff`."""
    deadline = time.monotonic() + budget_s
    after: tuple[Any, uuid.UUID] | None = None  # the last row's (finished_at, id)
    seen: set[uuid.UUID] = set()
    erased = 0
    while True:
        page = (
            due if after is None else due.filter(Q(finished_at__gt=after[0]) | Q(finished_at=after[0], id__gt=after[1]))
        )
        rows = await page.order_by("finished_at", "id").limit(batch)
        for task in rows:
            if time.monotonic() >= deadline:
                log.info("retention: the sweep's %.0f s are up; the rest is the next sweep's", budget_s)
                return erased
            seen.add(task.id)
            if not backoff.due(task.id):
                continue
            try:
                await erase(task)
            except expected as exc:
                delay = backoff.failed(task.id)
                log.warning("retention: %s not erased, retried in %.0f s: %s", describe(task), delay, exc)
                continue
            except Exception:
                delay = backoff.failed(task.id)
                log.exception("retention: %s not erased, retried in %.0f s", describe(task), delay)
                continue
            backoff.forget(task.id)
            erased += 1
        if len(rows) < batch:
            backoff.keep_only(seen)
            return erased
        after = (rows[-1].finished_at, rows[-1].id)
