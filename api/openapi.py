"""The OpenAPI document as the API really answers: a 422's `detail` is FastAPI's list of field
errors, or one sentence when the reason is not a single field (a malformed cursor, an unsafe
callback URL), so the schema says either."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            error = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if error is not None:
                listed = error["properties"]["detail"]
                error["properties"]["detail"] = {"title": "Detail", "anyOf": [listed, {"type": "string"}]}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
