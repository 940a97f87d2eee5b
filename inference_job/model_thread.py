"""The one thread of the process that runs models: loading, warm-up and every batch.

PyTorch's CPU kernels run on an OpenMP team that belongs to the thread calling them. A second
thread running torch code gets a second team, and once the teams together hold more threads
than there are cores, libgomp stops spin-waiting between parallel regions: every small op
then pays a sleep and a wake-up (measured: Detectron2 on CPU ~30 % slower per frame on two
cores). So a model is created, warmed and run in this same long-lived thread, and the thread
that loads it never runs torch code beside it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")


def submit(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[T]:
    """Run `fn` in the model thread; await the result from the event loop."""
    return asyncio.get_running_loop().run_in_executor(_EXECUTOR, functools.partial(fn, *args, **kwargs))


def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn` in the model thread from synchronous code (benchmarks, tests) and wait."""
    return _EXECUTOR.submit(fn, *args, **kwargs).result()
