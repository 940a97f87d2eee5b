"""Bodies that may come as JSON or as form fields (the original clients send forms)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

M = TypeVar("M", bound=BaseModel)

MAX_FIELD_BYTES = 8 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_fields(request: Request) -> dict[str, Any]:
    """The body's fields, from JSON or a form; 422 when it is neither."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in FORM_TYPES:
        max_fields = request.app.state.settings.max_form_fields
        try:
            form = await request.form(max_fields=max_fields, max_files=0, max_part_size=MAX_FIELD_BYTES)
        except StarletteHTTPException as exc:  # python-multipart's limits, raised as 400
            if "Too many fields" in str(exc.detail):
                raise HTTPException(
                    status.HTTP_413_CONTENT_TOO_LARGE,
                    detail=f"the form has more than {max_fields} fields (VA_MAX_FORM_FIELDS)",
                ) from None
            raise
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.body()
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="send a JSON object or form fields (application/x-www-form-urlencoded)",
        )
    return data


def parse_as(model: type[M], fields: dict[str, Any]) -> M:
    """Validate into `model`; errors become a 422 in FastAPI's usual shape."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        # No input echoed back: it may be a password, or text that cannot even be encoded.
        errors = jsonable_encoder(exc.errors(include_url=False, include_context=False, include_input=False))
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=errors) from None


def body_doc(schema_name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """`openapi_extra` describing the same body as JSON and as a form, for Swagger UI."""
    schema = {"title": schema_name, "type": "object", "properties": properties, "required": required}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422 for typed bodies and queries, without the input echoed back."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{k: v for k, v in error.items() if k not in ("input", "ctx", "url")} for error in errors]
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": jsonable_encoder(detail)})
