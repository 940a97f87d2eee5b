"""Prometheus metrics of the API: requests, latency, uploads, tasks by status, webhooks.

Request metrics are labelled by the route template (`/tasks/{task_id}/`), never the raw path,
so a task id cannot create a new time series. With `VA_METRICS_PORT` set, `/metrics` answers on
that port only and nothing else does, so an Ingress that routes `/` to the API never exposes it.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.functions import Count

from videoanalysis.tables import Task, WebhookDelivery
from videoanalysis.task_status import TaskStatus

REQUESTS = Counter("va_http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
LATENCY = Histogram("va_http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "route"])
UPLOADS = Counter("va_uploads_total", "Video uploads by outcome (accepted, or the HTTP status).", ["outcome"])
UPLOAD_BYTES = Counter("va_upload_bytes_total", "Bytes of accepted videos.")
TASKS = Gauge("va_tasks", "Tasks in the database by status.", ["status"])
WEBHOOKS = Gauge("va_webhook_deliveries", "Webhook deliveries by state.", ["state"])

router = APIRouter(tags=["health"])


class MetricsMiddleware:
    """Counts and times every HTTP request. Plain ASGI: Starlette's `BaseHTTPMiddleware` would
    run each request in a task of its own behind a memory stream, which cost more than the
    request itself on the fast routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - start)
            REQUESTS.labels(scope["method"], template, str(status)).inc()


class MetricsPortSplit:
    """Pure ASGI: on the metrics port only `/metrics`, on the other ports everything but it."""

    def __init__(self, app: ASGIApp, metrics_port: int) -> None:
        self.app, self.metrics_port = app, metrics_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            server = scope.get("server") or ("", None)
            if (server[1] == self.metrics_port) != (scope["path"] == "/metrics"):
                await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _refresh_gauges() -> None:
    """Counts read at scrape time, so every API replica reports the same database truth.
    Counting the indexed columns lets PostgreSQL answer from the indexes (tasks by status,
    given-up deliveries, due deliveries) without reading the tables' rows."""
    rows = await Task.annotate(n=Count("status")).group_by("status").values("status", "n")
    counts = {str(r["status"]): r["n"] for r in rows}
    for status in TaskStatus:
        TASKS.labels(status.value).set(counts.get(status.value, 0))
    WEBHOOKS.labels("pending").set(await WebhookDelivery.filter(delivered_at=None, gave_up=False).count())
    WEBHOOKS.labels("given_up").set(await WebhookDelivery.filter(gave_up=True).count())


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    await _refresh_gauges()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
