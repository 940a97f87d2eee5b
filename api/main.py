"""The FastAPI application: routers, and a lifespan that connects the database and the dispatcher."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from tortoise import Tortoise

from api.auth.passwords import HASH_THREADS, HashingBusy, PasswordHasher
from api.auth.signin_limits import SigninLimiter
from api.auth.token_cache import VerifiedTokens
from api.auth.user_cache import UserCache
from api.bodylimit import BodyLimitMiddleware
from api.config import ApiSettings, DispatcherKind, load_settings
from api.dispatchers import Dispatcher, create_dispatcher
from api.dispatchers.intents import reconcile_loop
from api.docs_ui import install_docs_ui
from api.forms import validation_error
from api.metrics import MetricsMiddleware, MetricsPortSplit
from api.metrics import router as metrics_router
from api.openapi import install_openapi
from api.retention import retention_loop
from api.routes import auth, events, health, me, results, tasks, tracks, uploads
from api.video_url import UrlProber
from api.viewer import routes as viewer
from api.viewer.access import install_log_redaction
from videoanalysis.db import close_db, init_db
from videoanalysis.schema_version import newest_shipped_migration
from videoanalysis.webhooks import delivery_loop

log = logging.getLogger(__name__)


def create_app(settings: ApiSettings | None = None, *, dispatcher: Dispatcher | None = None) -> FastAPI:
    """Build the app. The lifespan connects Tortoise unless it is already connected in this
    context (tests share the session database) and creates the dispatcher unless one is given."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owns_db = not Tortoise.is_inited()
        if owns_db:
            await init_db(settings, global_fallback=True)
        app.state.dispatcher = dispatcher or create_dispatcher(settings)
        app.state.url_prober = UrlProber(settings.video_url_probe_threads, settings.video_url_probe_seconds)
        start = getattr(app.state.dispatcher, "start", None)
        if start is not None:  # the local queue resumes what an earlier process left open
            await start()
        loops = [
            asyncio.create_task(
                delivery_loop(settings.webhook_policy, settings.public_url, settings.webhook_poll_seconds)
            ),
            asyncio.create_task(
                retention_loop(settings.retention_days, app.state.dispatcher, settings.resolved_videos_dir)
            ),
        ]
        if settings.dispatcher is DispatcherKind.KUBERNETES:  # dispatch what a crash left due
            loops.append(asyncio.create_task(reconcile_loop(app.state.dispatcher, settings.dispatch_poll_seconds)))
        try:
            yield
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await app.state.dispatcher.close()
            app.state.url_prober.close()
            app.state.password_hasher.close()
            if owns_db:
                await close_db()

    app = FastAPI(
        title="VideoAnalysis",
        summary="Find objects in videos: upload a video, read its detections back.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs_ui with local assets instead of a CDN's
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.schema_gate = health.SchemaGate(newest_shipped_migration())
    app.add_exception_handler(RequestValidationError, validation_error)
    install_log_redaction()
    app.add_exception_handler(HashingBusy, hashing_busy)
    app.state.signin_limiter = SigninLimiter(
        settings.signin_max_failures,
        settings.signin_account_max_failures,
        settings.signin_window_seconds,
        account_max_inflight=settings.signin_max_inflight_per_account,
        address_max_inflight=settings.signin_max_inflight_per_address,
    )
    app.state.password_hasher = PasswordHasher(HASH_THREADS, settings.password_hash_queue)
    app.state.user_cache = UserCache(settings.auth_cache_seconds)
    app.state.verified_tokens = VerifiedTokens(settings.secret_key)
    for router in (
        auth.router,
        auth.auth_router,
        me.router,
        uploads.router,  # the task routers in their one order: the OpenAPI document lists paths as registered
        results.router,
        tasks.router,
        tracks.router,
        events.router,
        viewer.router,
        health.router,
        metrics_router,
    ):
        app.include_router(router)
    install_openapi(app)
    install_docs_ui(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_json_bytes, exempt_paths=uploads.STREAMED_PATHS)
    app.add_middleware(MetricsMiddleware)
    if settings.metrics_port:
        app.add_middleware(MetricsPortSplit, metrics_port=settings.metrics_port)
    return app


async def hashing_busy(request: Request, exc: Exception) -> JSONResponse:
    """The password-hashing queue is full: 503 with Retry-After, the request not queued."""
    retry_after = exc.retry_after_s if isinstance(exc, HashingBusy) else 1
    return JSONResponse(
        {"detail": str(exc)}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(retry_after)}
    )
