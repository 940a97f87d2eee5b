"""A cap on every request body except the video upload's (which streams to storage under its own).

A body announced larger than the cap by `Content-Length` is answered 413 before a byte of it is
read; a body without one (chunked) is counted as it arrives and cut off with 413 as soon as it
passes the cap. The 413 is an `HTTPException`, so FastAPI's body parsing lets it through.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, detail=f"request body exceeds the limit of {limit} bytes (VA_MAX_JSON_BYTES)")


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, exempt_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            exc = too_large(self.max_bytes)
            await JSONResponse({"detail": exc.detail}, status_code=413, headers={"Connection": "close"})(
                scope, receive, send
            )
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise too_large(self.max_bytes)
            return message

        await self.app(scope, limited, send)
