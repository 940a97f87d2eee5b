"""The one periodic loop (videoanalysis.periodic): its schedule, its failures, its ends."""

from __future__ import annotations

import asyncio
import logging

import pytest

from videoanalysis.periodic import every

log = logging.getLogger("tests.periodic")
TICK = 0.05


class Passes:
    """A step that records when it ran and sets `stop` after `until` passes."""

    def __init__(self, until: int = 1000, fail: bool = False) -> None:
        self.times: list[float] = []
        self.until, self.fail = until, fail
        self.stop = asyncio.Event()

    async def __call__(self) -> None:
        self.times.append(asyncio.get_running_loop().time())
        if len(self.times) >= self.until:
            self.stop.set()
        if self.fail:
            raise RuntimeError(f"pass {len(self.times)} failed")


async def test_runs_at_once_then_every_interval() -> None:
    step = Passes(until=4)
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(every(TICK, step, name="ticker", logger=log, stop=step.stop), 5)
    assert len(step.times) == 4
    assert step.times[0] - started < TICK  # the first pass does not wait
    gaps = [b - a for a, b in zip(step.times, step.times[1:], strict=False)]
    assert all(gap >= TICK * 0.9 for gap in gaps), gaps


async def test_an_initial_delay_comes_before_the_first_pass() -> None:
    step = Passes(until=1)
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(every(TICK, step, name="ticker", logger=log, initial_delay_s=0.2, stop=step.stop), 5)
    assert step.times[0] - started >= 0.2 * 0.9


async def test_a_failing_pass_is_logged_by_name_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger=log.name)
    step = Passes(until=3, fail=True)
    await asyncio.wait_for(every(TICK, step, name="the sweep", logger=log, stop=step.stop), 5)
    assert len(step.times) == 3  # every failure was followed by another pass
    failures = [r for r in caplog.records if r.name == log.name]
    assert [r.getMessage() for r in failures] == [f"the sweep failed; trying again in {TICK:g} s"] * 3
    assert all(r.exc_info and "pass" in str(r.exc_info[1]) for r in failures)  # with its traceback


async def test_repeated_failures_still_wait_the_interval() -> None:
    step = Passes(until=3, fail=True)
    await asyncio.wait_for(every(TICK, step, name="the sweep", logger=log, stop=step.stop), 5)
    gaps = [b - a for a, b in zip(step.times, step.times[1:], strict=False)]
    assert all(gap >= TICK * 0.9 for gap in gaps), gaps


async def test_setting_stop_ends_the_wait_at_once() -> None:
    step = Passes()
    loop = asyncio.create_task(every(60, step, name="slow", logger=log, stop=step.stop))
    await asyncio.sleep(TICK)
    assert len(step.times) == 1  # waiting its minute
    step.stop.set()
    await asyncio.wait_for(loop, 1)
    assert len(step.times) == 1


async def test_a_step_that_sets_stop_ends_the_loop_without_waiting() -> None:
    step = Passes(until=1)
    await asyncio.wait_for(every(60, step, name="once", logger=log, stop=step.stop), 1)
    assert len(step.times) == 1


async def test_an_event_set_before_the_start_runs_no_pass() -> None:
    step = Passes()
    step.stop.set()
    await asyncio.wait_for(every(TICK, step, name="stopped", logger=log, stop=step.stop), 1)
    assert step.times == []


async def test_wake_starts_the_next_pass_early_and_is_cleared() -> None:
    step, wake = Passes(), asyncio.Event()
    loop = asyncio.create_task(every(60, step, name="queue", logger=log, wake=wake))
    try:
        await asyncio.sleep(TICK)
        wake.set()
        await asyncio.sleep(TICK)
        assert len(step.times) == 2 and not wake.is_set()
        await asyncio.sleep(TICK)
        assert len(step.times) == 2  # cleared: back to the interval
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


@pytest.mark.parametrize("events", [{}, {"stop": True}, {"stop": True, "wake": True}])
async def test_cancelling_during_the_wait_propagates_and_leaves_no_task(events: dict[str, bool]) -> None:
    before = asyncio.all_tasks()
    kwargs = {name: asyncio.Event() for name in events}
    loop = asyncio.create_task(every(60, Passes(), name="slow", logger=log, **kwargs))
    await asyncio.sleep(TICK)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert asyncio.all_tasks() == before


async def test_cancelling_during_a_pass_propagates_and_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger=log.name)
    entered = asyncio.Event()

    async def hangs() -> None:
        entered.set()
        await asyncio.sleep(60)

    loop = asyncio.create_task(every(TICK, hangs, name="hung", logger=log))
    await entered.wait()
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert not [r for r in caplog.records if r.name == log.name]


@pytest.mark.parametrize("interval", [0, -1])
async def test_an_interval_that_would_spin_is_refused(interval: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        await every(interval, Passes(), name="spin", logger=log)
