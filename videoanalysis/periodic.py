"""Work a process repeats for as long as it runs (the retention sweeps, the dispatch reconciler,
the webhook deliveries, the local queue's poll, the job's lease heartbeat): one loop, so each
gets the same guarantees.

A pass that fails is logged with the loop's name and the loop goes on; the next pass still
waits its interval, so a database that stays away costs one log line per interval, never a busy
loop. Cancelling the caller ends the loop at once (also mid-pass); a set `stop` event ends it
without waiting out the interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


async def every(
    interval_s: float,
    step: Callable[[], Awaitable[object]],
    *,
    name: str,
    logger: logging.Logger,
    initial_delay_s: float = 0.0,
    stop: asyncio.Event | None = None,
    wake: asyncio.Event | None = None,
) -> None:
    """Run `step` after `initial_delay_s` (at once by default), then `interval_s` after each
    pass ends, until `stop` is set or the caller is cancelled. `wake`, when set, starts the next
    pass early (and is cleared): new work need not wait for the next tick."""
    if interval_s <= 0:
        raise ValueError(f"{name}: the interval must be positive, not {interval_s}")
    delay = initial_delay_s
    while not _is_set(stop):
        if delay > 0:
            await _pause(delay, stop, wake)
            if wake is not None:
                wake.clear()
            if _is_set(stop):
                return
        try:
            await step()
        except Exception:  # one failed pass; the next may well succeed
            logger.exception("%s failed; trying again in %g s", name, interval_s)
        delay = interval_s


def _is_set(event: asyncio.Event | None) -> bool:
    return event is not None and event.is_set()


async def _pause(seconds: float, *events: asyncio.Event | None) -> None:
    """Sleep `seconds`, or less if one of `events` is set meanwhile."""
    waiting = [asyncio.create_task(event.wait()) for event in events if event is not None]
    if not waiting:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait(waiting, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when cancelled: no waiter outlives the pause
        for waiter in waiting:
            waiter.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
