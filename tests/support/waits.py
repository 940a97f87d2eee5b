"""Waiting in tests: two ways to poll a condition.

`wait_for` polls a quick predicate (sync or async: a read of the cluster or of a row) and returns
its first truthy value. `until` is for predicates that may themselves wait: a limit checked only
between predicate calls does not hold when the predicate itself waits (a database call stuck on a
pool connection or a lock), and the test then hangs until pytest-timeout kills the whole
session's worth of it. There each call runs inside the remaining time, and a miss names what
every asyncio task of the loop was waiting on, which is what a hang needs.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def wait_for(predicate: Any, timeout: float = 30, what: str = "condition", interval: float = 0.2) -> Any:
    """Poll `predicate` (sync or async) until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


async def until(predicate: Callable[[], Awaitable[bool]], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll the async `predicate`, each call inside the time left, until it returns true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        scope = asyncio.timeout(max(deadline - loop.time(), 0.01))
        try:
            async with scope:
                if await predicate():
                    return
        except TimeoutError as exc:
            if scope.expired():
                raise AssertionError(f"{what} not reached in {timeout:g} s\n{waiting_tasks()}") from exc
            raise
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached in {timeout:g} s\n{waiting_tasks()}")
        await asyncio.sleep(0.05)


def waiting_tasks(frames: int = 4) -> str:
    """Each pending task of the running loop with the innermost lines it is suspended at."""
    lines = []
    for task in asyncio.all_tasks():
        if task.done() or task is asyncio.current_task():
            continue
        stack = task.get_stack(limit=frames)
        where = " <- ".join(f"{f.f_code.co_filename.rsplit('/', 2)[-1]}:{f.f_lineno} {f.f_code.co_name}" for f in stack)
        lines.append(f"  {task.get_name()}: {where or '(not started)'}")
    return "pending tasks:\n" + "\n".join(sorted(lines))
