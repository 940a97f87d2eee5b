"""Prometheus metrics of the operator: reconciles by handler and outcome, Jobs created, runs
failed by reason; served on `VA_METRICS_PORT` by prometheus_client's own HTTP server (a
daemon thread started by the startup handler, so Kopf's event loop is never involved).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import kopf
from prometheus_client import Counter, start_http_server

log = logging.getLogger(__name__)

RECONCILES = Counter(
    "va_operator_reconciles_total",
    "Handler runs by handler and outcome (success, retry: TemporaryError, permanent: "
    "PermanentError, error: anything else, which Kopf retries).",
    ["handler", "outcome"],
)
JOBS_CREATED = Counter("va_operator_jobs_created_total", "batch/v1 Jobs the operator created (a 409 is not counted).")
FAILURES = Counter("va_operator_failures_total", "VideoAnalysis runs moved to Failed, by reason.", ["reason"])

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def outcome_of(exc: BaseException | None) -> str:
    """The `outcome` label of a handler run that raised `exc` (None: it returned)."""
    if exc is None:
        return "success"
    if isinstance(exc, kopf.TemporaryError):
        return "retry"
    if isinstance(exc, kopf.PermanentError):
        return "permanent"
    return "error"


def counted(handler: str) -> Callable[[F], F]:
    """Decorate an async Kopf handler so each run counts in `va_operator_reconciles_total`.

    Placed under the `@kopf.on...` decorators; the wrapper keeps the name and signature Kopf
    uses for the handler's id and keyword arguments.
    """

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        async def run(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await fn(*args, **kwargs)
            except Exception as exc:  # cancellation (BaseException) is not an outcome
                RECONCILES.labels(handler, outcome_of(exc)).inc()
                raise
            RECONCILES.labels(handler, "success").inc()
            return result

        return run  # type: ignore[return-value]

    return wrap


def start_metrics_server(port: int, addr: str = "0.0.0.0") -> bool:
    """Serve /metrics on `port` (0: off). Returns whether a server was started."""
    if not port:
        return False
    start_http_server(port, addr=addr)
    log.info("metrics on http://%s:%d/metrics", addr, port)
    return True
