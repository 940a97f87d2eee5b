"""The one thread of the process that runs models: loading, warm-up and every batch.

PyTorch's CPU kernels run on an OpenMP team that belongs to the thread calling them. A second
thread running torch code gets a second team, and once the teams together hold more threads
than there are cores, libgomp stops spin-waiting between parallel regions: every small op
then pays a sleep and a wake-up (measured: Detectron2 on CPU ~30 % slower per frame on two
cores). So a model is created, warmed and run in this same long-lived thread, and the thread
that loads it never runs torch code beside it.

A daemon thread (not a `ThreadPoolExecutor`, whose workers are joined at exit): a model stuck
in a call must never keep a stopped job's process alive.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
_started = threading.Lock()
_thread: threading.Thread | None = None


def _serve() -> None:
    while True:
        fn, future = _jobs.get()
        if not future.set_running_or_notify_cancel():
            continue
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)


def _submit(fn: Callable[[], T]) -> Future[T]:
    global _thread
    with _started:
        if _thread is None:
            _thread = threading.Thread(target=_serve, name="model", daemon=True)
            _thread.start()
    future: Future[T] = Future()
    _jobs.put((fn, future))
    return future


def submit(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[T]:
    """Run `fn` in the model thread; await the result from the event loop."""
    return asyncio.wrap_future(_submit(functools.partial(fn, *args, **kwargs)))


def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `fn` in the model thread from synchronous code (benchmarks, tests) and wait."""
    return _submit(functools.partial(fn, *args, **kwargs)).result()
